"""CLIC fine-tuning with evaluation before and after: the main trainer's ``--method clic`` between two evaluations.

``finetune(cfg, sources)`` evaluates the starting model (``cfg.pretrained``) on ``sources``,
trains with ``training.train.train`` (the one training loop: single process or every rank of a
``torchrun`` job; ``cfg.method`` must be ``"clic"``), evaluates the exported model
(``<output>/model``) and writes ``<output>/clic_results.json`` = {"before", "train", "after"}.
Evaluations run on rank 0 only; the other ranks wait in the trainer's first collective.

``evaluate_model`` is the evaluation of an in-memory model: SugarCrepe, SugarCrepe++ (per
language and subset, ``training.clic.sugarcrepe``), retrieval and zero-shot through
``training.evaluate``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass

import torch

from training.clic.pos import TaggerRegistry
from training.clic.sugarcrepe import evaluate_benchmark
from training.model import image_transforms
from training.pretrained import load_pretrained
from training.train import TrainConfig, train

log = logging.getLogger("training.clic")


@dataclass
class EvalSources:
    """What to evaluate on (any subset; empty fields are skipped)."""

    sugarcrepe: str | None = None  # folder of SugarCrepe subset files (or language folders)
    sugarcrepe_pp: str | None = None  # folder of SugarCrepe++ subset files (or language folders)
    image_root: str | None = None  # COCO val2017 (default: <folder>/images, else the folder)
    retrieval: str | None = None  # training.evaluate retrieval source (table, folder, .jsonl)
    zeroshot: str | None = None  # training.evaluate zero-shot source
    classes: str | None = None  # class file for zero-shot

    def any(self) -> bool:
        return any(asdict(self).values())


def evaluate_model(model, tokenizer, preprocess, sources: EvalSources, device: str | torch.device = "cpu") -> dict:
    """SugarCrepe / SugarCrepe++ (per language and subset), retrieval and zero-shot of an in-memory model."""
    from training.evaluate import load_retrieval_data, load_zero_shot_data, retrieval, zero_shot

    was_training = model.training
    model.eval()
    out: dict = {}
    if sources.sugarcrepe:
        out["sugarcrepe"] = evaluate_benchmark(model, tokenizer, preprocess, sources.sugarcrepe,
                                               image_root=sources.image_root, device=device)
    if sources.sugarcrepe_pp:
        out["sugarcrepe_pp"] = evaluate_benchmark(model, tokenizer, preprocess, sources.sugarcrepe_pp, plus=True,
                                                  image_root=sources.image_root, device=device)
    if sources.retrieval:
        uids, texts, pays, langs = load_retrieval_data(sources.retrieval)
        out["retrieval"] = retrieval(model, tokenizer, preprocess, uids, texts, pays, langs, device)
    if sources.zeroshot:
        if not sources.classes:
            raise ValueError("zero-shot evaluation needs a class file")
        with open(sources.classes, encoding="utf-8") as f:
            languages = json.load(f)["languages"]
        pays, labels = load_zero_shot_data(sources.zeroshot)
        out["zero_shot"] = zero_shot(model, tokenizer, preprocess, pays, labels, languages, device)
    model.train(was_training)
    return out


def evaluate_path(path: str, sources: EvalSources, device: str | torch.device = "cpu") -> dict:
    """``evaluate_model`` of a model on disk (``training.pretrained.load_pretrained``: an exported model
    directory, an open_clip checkpoint, or this package's ``step_N.pt``)."""
    model, model_cfg, tokenizer = load_pretrained(path, device=device)
    return evaluate_model(model, tokenizer, image_transforms(model_cfg)[1], sources, device)


def _eval_device(cfg: TrainConfig) -> str:
    local = os.environ.get("LOCAL_RANK", "0")
    return f"cuda:{local}" if torch.cuda.is_available() and cfg.device in ("auto", "cuda") else "cpu"


def finetune(cfg: TrainConfig, sources: EvalSources | None = None, *,
             tagger_registry: TaggerRegistry | None = None) -> dict:
    """Evaluate, train (``training.train.train`` with ``method="clic"``), evaluate; rank 0 writes and
    returns ``{"before", "train", "after"}`` (other ranks: ``{"train"}``)."""
    if cfg.method != "clic":
        raise ValueError(f"finetune runs the trainer's method 'clic', got method={cfg.method!r}")
    sources = sources or EvalSources()
    main = os.environ.get("RANK", "0") == "0"
    results: dict = {}
    if main and sources.any():
        t0 = time.time()
        results["before"] = evaluate_path(cfg.pretrained, sources, _eval_device(cfg))
        log.info("evaluated the starting model in %.1fs", time.time() - t0)
    results["train"] = train(cfg, tagger_registry=tagger_registry)
    if main:
        if sources.any():
            results["after"] = evaluate_path(results["train"]["model_dir"], sources, _eval_device(cfg))
        with open(os.path.join(cfg.output_dir, "clic_results.json"), "w", encoding="utf-8") as f:
            json.dump({"config": asdict(cfg), **results}, f, indent=1, ensure_ascii=False, default=str)
    return results
