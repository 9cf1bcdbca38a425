"""The LID evaluation set builder and scorer (benchmarks.lid), on a hand-written CoNLL-U file."""

from __future__ import annotations

import gzip

import pytest

from benchmarks.lid import build_eval as be
from benchmarks.lid import evaluate as ev
from benchmarks.lid.sources import SOURCES, Source

CONLLU = """# newdoc id = d1
# sent_id = s1
# text = Ich gehe zum Markt, weil es regnet.
1	Ich	ich	PRON	_	_	2	nsubj	_	_
2	gehe	gehen	VERB	_	_	0	root	_	_
3-4	zum	_	_	_	_	_	_	_	_
3	zu	zu	ADP	_	_	5	case	_	_
4	dem	der	DET	_	_	5	det	_	_
5	Markt	Markt	NOUN	_	_	2	obl	_	SpaceAfter=No
6	,	,	PUNCT	_	_	2	punct	_	_
6.1	ist	sein	AUX	_	_	_	_	_	_
7	weil	weil	SCONJ	_	_	9	mark	_	_
8	es	es	PRON	_	_	9	nsubj	_	_
9	regnet	regnen	VERB	_	_	2	advcl	_	SpaceAfter=No
10	.	.	PUNCT	_	_	2	punct	_	_

# sent_id = s2
# text = Ja.
1	Ja	ja	INTJ	_	_	0	root	_	SpaceAfter=No
2	.	.	PUNCT	_	_	1	punct	_	_
"""


def test_parse_conllu_surface_tokens():
    first, second = be.parse_conllu(CONLLU)
    assert first.sent_id == "s1" and first.text == "Ich gehe zum Markt, weil es regnet."
    # the multiword token "zum" replaces its words; the empty node 6.1 is skipped
    assert first.tokens == ("Ich", "gehe", "zum", "Markt", ",", "weil", "es", "regnet", ".")
    assert second.tokens == ("Ja", ".")


def test_prefix_after_tokens_is_a_real_prefix():
    sentence = next(be.parse_conllu(CONLLU))
    assert be.prefix_after_tokens(sentence.text, sentence.tokens, 3) == "Ich gehe zum"
    assert be.prefix_after_tokens(sentence.text, sentence.tokens, 5) == "Ich gehe zum Markt,"
    assert be.prefix_after_tokens("東京に行く", ("東京", "に", "行く"), 2) == "東京に"
    assert be.prefix_after_tokens("abc", ("x",), 1) is None  # a token not in the text: no fragment


@pytest.mark.parametrize("lang, text, ok", [
    ("el", "Η συνεδρίαση (EN)", True),
    ("el", "2012-03-01", False),  # no letters
    ("el", "(NL)", False),  # letters, none Greek
    ("zh", "他也参与了Courtney Love新专辑的制作。", True),  # a third of the letters is enough
    ("ja", "WWE Raw", False),
    ("de", "Ja", True),
    ("de", "X", False),  # one letter
    ("ko", "大韓民國 국회", True),  # Hanja count for Korean
])
def test_has_script_evidence(lang, text, ok):
    assert be.has_script_evidence(lang, text) is ok


def test_rows_of_source_quota_fragments_and_determinism():
    source = Source("de", "UniversalDependencies/UD_Test", "0" * 40, ("x.conllu",), "CC BY-SA 4.0", quota=5)
    rows = be.rows_of_source(source, [CONLLU])
    assert rows == be.rows_of_source(source, [CONLLU])  # no random state
    sentences = [r for r in rows if r[1] == "sentence"]
    assert {r[3] for r in sentences} == {"Ich gehe zum Markt, weil es regnet.", "Ja."}
    for lang, kind, sid, text in rows:
        assert lang == "de" and sid.startswith("UD_Test/")
        if kind == "fragment":  # a strict prefix of its own sentence, 3-12 tokens
            full = next(r[3] for r in sentences if r[2] == sid)
            assert full.startswith(text) and text != full
    one = Source("de", "UniversalDependencies/UD_Test", "0" * 40, ("x.conllu",), "CC BY-SA 4.0", quota=1)
    assert len([r for r in be.rows_of_source(one, [CONLLU]) if r[1] == "sentence"]) == 1


def test_write_and_read_eval_round_trip(tmp_path):
    rows = [("de", "sentence", "UD_Test/s1", "Ich gehe."), ("ja", "fragment", "UD_J/s2", "東京に")]
    path = str(tmp_path / "lid" / "eval.tsv.gz")
    be.write_tsv_gz(rows, path)
    assert be.read_eval(path) == rows
    first = open(path, "rb").read()
    be.write_tsv_gz(rows, path)
    assert open(path, "rb").read() == first  # byte-identical (gzip mtime 0)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        assert f.read().count("\n") == 2
    with pytest.raises(FileNotFoundError, match="build_eval"):
        be.read_eval(str(tmp_path / "missing.tsv.gz"))


def test_sources_are_pinned_and_cover_the_required_languages():
    required = {"zh", "ja", "ko", "th", "hi", "mr", "ar", "ru", "de", "fr", "es", "en"}
    assert required <= {s.lang for s in SOURCES}
    for source in SOURCES:
        assert len(source.commit) == 40 and source.files and source.licence and source.quota > 0


def test_evaluate_scores_per_language_kind_and_split():
    rows = [("de", "sentence", "a/1", "x"), ("de", "fragment", "a/1", "y"), ("en", "sentence", "a/2", "z"),
            ("yue", "sentence", "a/3", "w")]
    report = ev.evaluate(rows, "fake", lambda texts: (["de", "en", "en", "zh"], ["m1", "m2", "m1", "m1"]))
    assert report.by_lang["de"]["all"].right == 1 and report.by_lang["de"]["all"].total == 2
    assert report.by_lang["de"]["fragment"].accuracy == 0.0
    assert report.confusion["de"] == {"en": 1} and report.confusion["yue"] == {"zh": 1}
    assert report.overall().right == 2 and report.overall().total == 3  # yue is not a core language
    assert report.overall(core=False).total == 4
    assert report.methods == {"m1": 3, "m2": 1} and report.method_right["m1"] == 2
    split = ev.split_of("a/1")
    assert split in ("dev", "test") and report.by_lang["de"][split].total == 2  # sentence + its fragment
    text = ev.markdown([report], rows, "eval.tsv.gz")
    assert "| de | 2 | 50.00 | 100.00 | 0.00 |" in text
