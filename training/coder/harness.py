"""CODER evaluation: plain CLIP zero-shot vs CODER vs CODER*, and k-shot Tip-Adapter vs CODER-Tip.

Inputs are those of ``training.evaluate``: a test set as a zero-shot table (image column +
integer ``label``) or a class-per-folder tree, a class file with per-language class names and
prompt templates, and optionally a pool of labelled *training* images in the same formats from
which the k shots per class are drawn. Every language of the class file is evaluated (class
names in any script); its bank's name templates are the class file's templates for that
language unless the knowledge JSON sets ``templates.name``.

Per language: one text bank (cached), then

- **CLIP**: argmax of ``f · W`` (W = normalised mean of the class's prompt embeddings);
- **CODER**: argmax of :func:`zero_shot_scores` over φ(f) = bank · f (all non-ovo texts);
- **CODER\\***: :func:`rerank` with the bank's ovo texts and threshold τ (= CODER when the bank
  has no ovo texts);
- **Tip-Adapter / CODER-Tip**, k ∈ {1, 2, 4, 8, 16}: :func:`evaluate_few_shot` with CLIP keys
  (raw affinities, the original Tip-Adapter) or CODER keys (min–max, the reference), both with
  the same zero-shot term and (α, β) searched on the shots only.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from training.coder.bank import BankSpec, TextBank, cached_bank
from training.coder.features import augmented_features, image_features, model_embedder, name_classifier
from training.coder.fewshot import SHOT_COUNTS, SearchConfig, evaluate_few_shot, select_shots
from training.coder.knowledge import BankTemplates, KnowledgeSource
from training.coder.rules import KIND_OVO, neighbour_representation, ovo_pair_sims, rerank, zero_shot_scores

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoderEvalConfig:
    tau: float = 0.1  # CODER* threshold (reference: ImageNet 0.1; see rules.REFERENCE_TAU)
    shots: tuple[int, ...] = SHOT_COUNTS
    aug_passes: int = 10  # augmented passes averaged into each cache key (reference: 20, Pets 10)
    seed: int = 0
    search: SearchConfig = field(default_factory=SearchConfig)
    analogous_max_cosine: float = 0.9
    analogous_retries: int = 6

    def __post_init__(self):
        if not 0.0 <= self.tau <= 1.0:
            raise ValueError("tau must lie in [0, 1]")
        if any(k < 1 for k in self.shots):
            raise ValueError("shot counts must be >= 1")
        if self.aug_passes < 0:
            raise ValueError("aug_passes must be >= 0")


def bank_spec_for(language: str, classnames: Sequence[str], class_templates: Sequence[str],
                  knowledge: KnowledgeSource | None, wordnet: Sequence[str], config: CoderEvalConfig) -> BankSpec:
    """The bank of one language: class-file templates as name templates unless the knowledge sets them."""
    overrides = dict(getattr(knowledge, "templates", None) or {})
    templates = BankTemplates(**{"name": tuple(t.replace("{}", "{c}") for t in class_templates), **overrides})
    kw = {} if knowledge is None else {"knowledge": knowledge}
    return BankSpec(classnames=tuple(classnames), language=language, templates=templates, wordnet=tuple(wordnet),
                    analogous_max_cosine=config.analogous_max_cosine, analogous_retries=config.analogous_retries, **kw)


def coder_predictions(features: np.ndarray, bank: TextBank, tau: float) -> tuple[np.ndarray, np.ndarray, int]:
    """``(CODER predictions, CODER* predictions, number of images re-ranked)``."""
    n_classes = len(bank.classnames)
    ovo = bank.mask([KIND_OVO])
    phi = neighbour_representation(features.astype(np.float32), bank.embedding)
    scores = zero_shot_scores(phi, bank.text_class, bank.kind, n_classes)
    coder = np.argmax(scores, axis=1)
    pairs = ovo_pair_sims(phi[:, ovo], bank.text_class[ovo], bank.other[ovo]) if ovo.any() else {}
    star = rerank(scores, pairs, tau)
    return coder, star, int(np.sum(star != coder))


def payload_id(payload: object) -> str:
    """A stable id of an image payload: its path, or a hash of its bytes."""
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return "sha1:" + hashlib.sha1(bytes(payload)).hexdigest()
    return str(payload)


def run_coder_evaluation(model, tokenizer, preprocess, image_size: int, *, test_payloads: Sequence[object],
                         test_labels: Sequence[int], languages: Mapping[str, Mapping[str, Sequence[str]]],
                         knowledge: Mapping[str, KnowledgeSource] | None = None, wordnet: Sequence[str] = (),
                         pool_payloads: Sequence[object] | None = None, pool_labels: Sequence[int] | None = None,
                         cache_dir: str | None = None, device: str = "cpu",
                         config: CoderEvalConfig = CoderEvalConfig()) -> dict:
    """Every method on every language; see the module docstring. Returns a JSON-able dict."""
    t0 = time.time()
    knowledge = dict(knowledge or {})
    unknown = sorted(set(knowledge) - set(languages))
    if unknown:
        raise ValueError(f"knowledge for languages the class file lacks: {unknown}")
    feats, keep, bad = image_features(model, preprocess, test_payloads, device)
    y = np.asarray(test_labels)[keep]
    embed = model_embedder(model, tokenizer, device)
    result: dict = {"test_images": len(keep), "bad_test_images": dict(bad), "config": _jsonable(config),
                    "languages": {}}
    pool = None
    if pool_payloads is not None and config.shots:
        pool = _shot_pool(model, preprocess, image_size, pool_payloads, pool_labels, device, config)
        result["pool_images"] = len(pool["labels"])
    for lang, spec in languages.items():
        names, templates = list(spec["classnames"]), list(spec["templates"])
        if y.size and y.max() >= len(names):
            raise ValueError(f"language {lang!r}: {len(names)} class names but labels up to {int(y.max())}")
        bank, path, hit = cached_bank(bank_spec_for(lang, names, templates, knowledge.get(lang), wordnet, config),
                                      embed, cache_dir)
        w = name_classifier(model, tokenizer, names, templates, device)
        coder, star, reranked = coder_predictions(feats, bank, config.tau)
        out = {"clip": _acc(np.argmax(feats @ w, axis=1), y), "coder": _acc(coder, y), "coder_star": _acc(star, y),
               "reranked": reranked,
               "bank": {"texts": len(bank), **bank.counts(), "analogous_rejected": len(bank.rejects), "cache": path,
                        "cache_hit": hit}}
        if pool is not None:
            general = bank.embedding[~bank.mask([KIND_OVO])]
            out["few_shot"] = {}
            for k in config.shots:
                idx = pool["shots"][k]
                args = (pool["plain"][idx], pool["keys"][idx], pool["labels"][idx], feats, y, w)
                tip = evaluate_few_shot(*args, None, config.search)
                ctip = evaluate_few_shot(*args, general, config.search)
                out["few_shot"][str(k)] = {"tip": tip.accuracy, "coder_tip": ctip.accuracy,
                                           "tip_search": asdict(tip.tuned), "coder_tip_search": asdict(ctip.tuned),
                                           "shots_per_class_max": tip.shots}
        log.info("coder %s: clip %.3f coder %.3f coder* %.3f", lang, out["clip"], out["coder"], out["coder_star"])
        result["languages"][lang] = out
    result["mean"] = _means(result["languages"])
    result["seconds"] = round(time.time() - t0, 1)
    return result


def _shot_pool(model, preprocess, image_size, payloads, labels, device, config: CoderEvalConfig) -> dict:
    """Plain and augmented features of the union of the k-shot sets (the largest k contains the others)."""
    if labels is None or len(labels) != len(payloads):
        raise ValueError("the shot pool needs one label per image")
    plain, keep, _ = image_features(model, preprocess, payloads, device)
    ids = [payload_id(payloads[i]) for i in keep]
    lab = np.asarray(labels)[keep]
    shots = {k: select_shots(ids, lab, k, config.seed) for k in config.shots}
    used = np.unique(np.concatenate(list(shots.values())))
    keys = np.zeros_like(plain)
    keys[used] = augmented_features(model, preprocess, [payloads[keep[i]] for i in used], image_size,
                                    config.aug_passes, config.seed, device)
    return {"plain": plain, "keys": keys, "labels": lab, "shots": shots}


def _acc(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.asarray(pred) == y)) if len(y) else float("nan")


def _means(per_lang: Mapping[str, dict]) -> dict:
    langs = list(per_lang.values())
    out = {m: float(np.mean([r[m] for r in langs])) for m in ("clip", "coder", "coder_star")}
    if langs and "few_shot" in langs[0]:
        out["few_shot"] = {k: {m: float(np.mean([r["few_shot"][k][m] for r in langs])) for m in ("tip", "coder_tip")}
                           for k in langs[0]["few_shot"]}
    return out


def _jsonable(config: CoderEvalConfig) -> dict:
    d = asdict(config)
    d["shots"] = list(config.shots)
    return d


def format_table(result: dict) -> str:
    """One Markdown table: methods × languages (+ mean), top-1 accuracy in %."""
    langs = list(result["languages"])
    cols = [*langs, "mean"]
    rows = [("CLIP zero-shot", "clip"), ("CODER", "coder"), (f"CODER* (τ={result['config']['tau']})", "coder_star")]
    lines = ["| method | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]

    def cell(lang: str, key: str, k: str | None = None) -> str:
        r = result["mean"] if lang == "mean" else result["languages"][lang]
        v = r[key] if k is None else r["few_shot"][k][key]
        return f"{100 * v:.1f}"

    for label, key in rows:
        lines.append(f"| {label} | " + " | ".join(cell(c, key) for c in cols) + " |")
    few = result["mean"].get("few_shot", {})
    for k in few:
        for label, key in (("Tip-Adapter", "tip"), ("CODER-Tip", "coder_tip")):
            lines.append(f"| {label} {k}-shot | " + " | ".join(cell(c, key, k) for c in cols) + " |")
    return "\n".join(lines)
