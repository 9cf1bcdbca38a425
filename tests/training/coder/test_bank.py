"""Text bank: texts per kind, the analogous filter with bounded retries, embeddings, Parquet cache."""

from __future__ import annotations

import numpy as np
import pytest

from tests.training.coder.conftest import FakeEmbedder
from training.coder import zero_shot_scores
from training.coder.bank import BankSpec, analogous_too_close, build_bank, cached_bank, read_bank, write_bank
from training.coder.knowledge import BankTemplates, parse_knowledge

NAMES = ("red circle", "blue square", "red square")
TEMPLATES = BankTemplates(name=("a photo of {c}.",), attribute=("{c} which has {x}",),
                          analogous=("a {c} similar to {x}.",), ovo=("{c} differs from {o} by {x}.",))
KNOWLEDGE = parse_knowledge({"languages": {"en": {"classes": {
    "red circle": {"attributes": ["a round outline"], "analogous": ["tomato", "red square"],
                   "differences": {"red square": ["no corners"]}},
    "red square": {"differences": {"red circle": ["four corners"]}},
}}}})["en"]


def _spec(**kw) -> BankSpec:
    return BankSpec(classnames=NAMES, templates=TEMPLATES, knowledge=kw.pop("knowledge", KNOWLEDGE), **kw)


def test_bank_texts_per_kind_and_embeddings():
    embed = FakeEmbedder()
    bank = build_bank(_spec(), embed)
    rows = list(zip(bank.text_class.tolist(), bank.kind.tolist(), bank.text, bank.other.tolist()))
    assert rows == [
        (0, "name", "a photo of red circle.", -1),
        (0, "attribute", "red circle which has a round outline", -1),
        (0, "analogous", "a red circle similar to tomato.", -1),  # "red square" is another class: rejected
        (0, "ovo", "red circle differs from red square by no corners.", 2),
        (1, "name", "a photo of blue square.", -1),  # no knowledge: names only
        (2, "name", "a photo of red square.", -1),
        (2, "ovo", "red square differs from red circle by four corners.", 0),
    ]
    assert bank.rejects == [{"class": "red circle", "analogous": "red square", "reason": "too_close_to_other_class",
                             "other": "red square", "cosine": 1.0, "round": 0}]
    assert bank.embedding.dtype == np.float32 and bank.embedding.shape == (7, 48)
    np.testing.assert_allclose(np.linalg.norm(bank.embedding, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(bank.embedding, FakeEmbedder()(bank.text), atol=1e-6)
    assert bank.counts() == {"analogous": 1, "attribute": 1, "name": 3, "ovo": 2}
    image = FakeEmbedder()(["a red thing with a round outline"])
    sims = image @ bank.embedding.T
    scores = zero_shot_scores(sims, bank.text_class, bank.kind, 3)  # the bank's columns plug into the rule
    np.testing.assert_allclose(scores[0], 100 * np.array([sims[0, :3].mean(), sims[0, 4], sims[0, 5]]), rtol=1e-6)


def test_wordnet_synonyms_enter_as_name_templates(wn_lmf):
    spec = BankSpec(classnames=("crane", "hot dog"), templates=TEMPLATES, wordnet=(wn_lmf,))
    bank = build_bank(spec, FakeEmbedder())
    syn = [(int(c), t) for c, k, t in zip(bank.text_class, bank.kind, bank.text) if k == "synonym"]
    assert (1, "a photo of frankfurter.") in syn
    assert {t for c, t in syn if c == 0} in ({"a photo of derrick."}, {"a photo of Grus.", "a photo of wading bird."})


class Generator:
    """A pluggable knowledge source that keeps proposing look-alikes; counts its calls."""

    fingerprint = "gen:1"

    def __init__(self, rounds):
        self.rounds, self.calls = list(rounds), []

    def attributes(self, c):
        return []

    def analogous(self, c, n, avoid):
        self.calls.append((c, n, tuple(avoid)))
        if c != "red circle" or not self.rounds:
            return []
        return self.rounds.pop(0)

    def differences(self, c):
        return {}


def test_rejected_look_alikes_are_replaced_until_none_is_rejected():
    gen = Generator([["tomato", "blue square"], ["red square", "cherry"], ["apple"], ["never asked"]])
    bank = build_bank(_spec(knowledge=gen, analogous_retries=6), FakeEmbedder())
    ana = [t for k, t in zip(bank.kind, bank.text) if k == "analogous"]
    assert ana == ["a red circle similar to tomato.", "a red circle similar to cherry.",
                   "a red circle similar to apple."]
    assert [(r["analogous"], r["round"]) for r in bank.rejects] == [("blue square", 0), ("red square", 1)]
    # round 0 rejects one -> ask for 1 more; round 1 rejects one -> ask again; round 2 rejects
    # nothing -> stop (the reference's inverted flag kept asking exactly then)
    red_calls = [c for c in gen.calls if c[0] == "red circle"]
    assert [c[1] for c in red_calls] == [None, 1, 1]
    assert set(red_calls[1][2]) == {"tomato", "blue square"}
    assert set(red_calls[2][2]) == {"tomato", "blue square", "red square", "cherry"}


def test_retries_are_bounded():
    gen = Generator([["blue square"], ["red square"], ["blue square"], ["red square"]])
    build_bank(_spec(knowledge=gen, analogous_retries=2), FakeEmbedder())
    assert len([c for c in gen.calls if c[0] == "red circle"]) == 3  # first ask + 2 retries


def test_analogous_filter_ignores_the_own_class():
    names = np.eye(3)
    cand = np.array([[1.0, 0, 0], [0, 0.95, np.sqrt(1 - 0.95**2)], [0, 0.9, np.sqrt(1 - 0.81)]])
    reject, closest, cos = analogous_too_close(cand, names, own=0)
    assert reject.tolist() == [False, True, False]  # own name 1.0 ok; 0.95 > 0.9; exactly 0.9 is kept
    assert closest.tolist()[1] == 1 and cos[1] == pytest.approx(0.95)
    assert analogous_too_close(np.array([[1.0, 0]]), np.array([[1.0, 0]]), own=0)[0].tolist() == [False]


def test_parquet_round_trip(tmp_path):
    bank = build_bank(_spec(), FakeEmbedder())
    bank.key = "k"
    back = read_bank(write_bank(bank, str(tmp_path / "b" / "bank.parquet")))
    assert back.text == bank.text and back.classnames == list(NAMES) and back.key == "k"
    assert back.kind.tolist() == bank.kind.tolist()
    np.testing.assert_array_equal(back.text_class, bank.text_class)
    np.testing.assert_array_equal(back.other, bank.other)
    np.testing.assert_array_equal(back.embedding, bank.embedding)
    assert back.rejects == bank.rejects and back.language == "en"


def test_cache_is_keyed_by_model_and_bank(tmp_path):
    cache = str(tmp_path / "cache")
    embed = FakeEmbedder()
    bank, path, hit = cached_bank(_spec(), embed, cache)
    assert not hit and path.endswith(".parquet")
    n_calls = len(embed.calls)
    again, path2, hit2 = cached_bank(_spec(), embed, cache)
    assert hit2 and path2 == path and again.text == bank.text
    assert len(embed.calls) == n_calls + 1  # only the model-fingerprint probe
    _, other_model, hit3 = cached_bank(_spec(), FakeEmbedder(salt="other model"), cache)
    assert not hit3 and other_model != path
    _, other_bank, _ = cached_bank(_spec(knowledge=parse_knowledge({"languages": {"en": {}}})["en"]), embed, cache)
    _, other_tpl, _ = cached_bank(BankSpec(classnames=NAMES, knowledge=KNOWLEDGE), embed, cache)
    assert len({path, other_model, other_bank, other_tpl}) == 4


def test_spec_rejects_bad_input():
    with pytest.raises(ValueError, match="unique"):
        BankSpec(classnames=("a", "a"))
    with pytest.raises(ValueError, match="non-empty"):
        BankSpec(classnames=("a", " "))
    with pytest.raises(ValueError, match="KnowledgeSource"):
        BankSpec(classnames=("a",), knowledge={"a": []})
    bad = Generator([])
    bad.differences = lambda c: {"purple": ["x"]} if c == "red circle" else {}
    with pytest.raises(ValueError, match="not another class"):
        build_bank(_spec(knowledge=bad), FakeEmbedder())
