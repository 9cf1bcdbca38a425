"""Single-process CLIC fine-tuning from a trained model, with evaluation before and after.

``finetune(FinetuneConfig)`` loads a model (``load_pretrained``: an exported model directory of
this package or open_clip's local-dir layout, or a training checkpoint ``step_*.pt``), freezes
its visual tower, streams CLIC batches (``training.clic.data``), alternates CLIC and plain CLIP
steps (``training.clic.step``), exports the result in the same layout as the main trainer
(``<output>/model``) and evaluates both models on the sources given (``evaluate_model``:
SugarCrepe, SugarCrepe++, retrieval and zero-shot through ``training.evaluate``).

This is the stand-alone driver of ``python -m training.clic``; the main trainer's ``--method
clic`` reuses the same hooks (``training.clic.step``) inside its own loop (DDP, checkpoints).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

import torch

from training.clic.data import CaptionsFileSource, CLICBatchMaker, CLICDataset, make_clic_loader, open_source
from training.clic.pos import TaggerRegistry
from training.clic.step import (
    CLICConfig,
    clic_lr,
    freeze_visual,
    is_clic_step,
    param_groups,
    train_step,
    warmup_steps,
)
from training.clic.sugarcrepe import evaluate_benchmark
from training.model import build_model, export_model, image_transforms, load_exported
from training.tokenizer import load_tokenizer
from training.distributed import set_cpu_threads
from training.optim import resolve_precision

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


@dataclass
class FinetuneConfig:
    pretrained: str
    data: str  # a table, or a captions file (.jsonl / .csv / .tsv)
    output_dir: str
    clic: CLICConfig = field(default_factory=CLICConfig)
    text_column: str = "text"
    image_column: str | None = None
    image_path_column: str | None = None
    image_key_column: str | None = None
    image_root: str | None = None
    window: int = 512  # captions files: records per partner pool
    block_units: int = 4  # tables: row groups per partner pool
    join_size: int = 224
    seed: int = 0
    workers: int = 2
    device: str = "auto"
    precision: str = "auto"
    cpu_threads: int | None = None  # CPU runs: intra-op threads (default: cores minus workers, as the trainer)
    max_steps: int | None = None
    steps_per_epoch: int | None = None  # default: source rows // batch size
    log_every: int = 10
    spacy: dict[str, str] = field(default_factory=dict)
    eval: EvalSources = field(default_factory=EvalSources)

    def __post_init__(self) -> None:
        if isinstance(self.clic, dict):
            self.clic = CLICConfig(**self.clic)
        if isinstance(self.eval, dict):
            self.eval = EvalSources(**self.eval)
        if not os.path.exists(self.pretrained):
            raise FileNotFoundError(f"--pretrained {self.pretrained} not found (a model directory or a checkpoint)")
        if not os.path.exists(self.data):
            raise FileNotFoundError(f"--data {self.data} not found")
        for name in ("max_steps", "steps_per_epoch"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name} must be >= 1 when given")


def load_pretrained(path: str, device: str | torch.device = "cpu"):
    """``(model, model_cfg, tokenizer)`` from an exported model directory or a training checkpoint file.

    A checkpoint (``<run>/checkpoints/step_N.pt``) carries ``model`` and ``model_cfg``; its tokenizer is
    found in ``<run>/tokenizer`` or ``<run>/model``.
    """
    if os.path.isdir(path):
        return load_exported(path, device=device)
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or "model" not in state or "model_cfg" not in state:
        raise ValueError(f"{path} is not a checkpoint of this package (needs 'model' and 'model_cfg')")
    model_cfg = state["model_cfg"]
    run = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    tok_dir = next((d for d in (os.path.join(run, "tokenizer"), os.path.join(run, "model"))
                    if os.path.exists(os.path.join(d, "tokenizer.json"))), None)
    if tok_dir is None:
        raise FileNotFoundError(f"no tokenizer next to {path} (looked in {run}/tokenizer and {run}/model)")
    tokenizer = load_tokenizer(tok_dir, context_length=model_cfg["text_cfg"]["context_length"])
    model = build_model(model_cfg, device="cpu")
    model.load_state_dict(state["model"])
    return model.to(device).eval(), model_cfg, tokenizer


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


def _source_rows(source) -> int:
    if isinstance(source, CaptionsFileSource):
        return sum(1 for _ in source.records())
    return sum(u.rows for u in source.reader.units)


def _tagger_names(registry: TaggerRegistry, langs) -> dict[str, str]:
    """The tagger of each language seen (resolved here: loader workers resolve their own copies)."""
    return {lang or "unknown": registry.name_of(lang) for lang in sorted(langs, key=lambda x: x or "")}


def finetune(cfg: FinetuneConfig, registry: TaggerRegistry | None = None) -> dict:
    """Fine-tune, export ``<output>/model`` and write ``<output>/clic_results.json`` (before/after/train)."""
    from open_clip.loss import ClipLoss

    os.makedirs(cfg.output_dir, exist_ok=True)
    use_cuda = torch.cuda.is_available() and cfg.device in ("auto", "cuda")
    device = torch.device("cuda" if use_cuda else "cpu")
    if device.type == "cpu":  # oversubscribed OpenMP threads are many times slower than one
        set_cpu_threads(cfg.cpu_threads, cfg.workers)
    precision = resolve_precision(cfg.precision, device)
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
    torch.manual_seed(cfg.seed)

    model, model_cfg, tokenizer = load_pretrained(cfg.pretrained, device)
    _, preprocess = image_transforms(model_cfg)
    results: dict = {"config": json.loads(json.dumps(asdict(cfg), default=str))}
    if cfg.eval.any():
        t0 = time.time()
        results["before"] = evaluate_model(model, tokenizer, preprocess, cfg.eval, device)
        log.info("evaluated the pretrained model in %.1fs", time.time() - t0)

    frozen = freeze_visual(model)
    registry = registry or TaggerRegistry(spacy=dict(cfg.spacy))
    source = open_source(cfg.data, seed=cfg.seed, window=cfg.window, text_column=cfg.text_column,
                         image_column=cfg.image_column, image_path_column=cfg.image_path_column,
                         image_key_column=cfg.image_key_column, image_root=cfg.image_root,
                         block_units=cfg.block_units)
    maker = CLICBatchMaker(source, cfg.clic.batch_size, tokenizer, preprocess, registry, cfg.seed, cfg.join_size)
    dataset = CLICDataset(maker)
    loader = make_clic_loader(dataset, cfg.workers, pin_memory=use_cuda)
    steps_per_epoch = cfg.steps_per_epoch or max(1, _source_rows(source) // cfg.clic.batch_size)
    total = cfg.max_steps or steps_per_epoch * cfg.clic.epochs
    warmup = warmup_steps(cfg.clic, steps_per_epoch)
    optimizer = torch.optim.AdamW(param_groups(model, cfg.clic.weight_decay), lr=cfg.clic.lr, betas=cfg.clic.betas,
                                  eps=cfg.clic.eps)
    clip_loss = ClipLoss(local_loss=True, gather_with_grad=True, cache_labels=True)
    log.info("CLIC fine-tuning: %d visual tensors frozen, %d trainable; ~%d steps/epoch, %d steps, warm-up %d, %s",
             frozen, sum(p.numel() for p in model.parameters() if p.requires_grad), steps_per_epoch, total, warmup,
             precision)

    model.train()
    step, epoch, stats, langs = 0, 0, Counter(), set()
    t_start = time.time()
    log_path = os.path.join(cfg.output_dir, "log.csv")
    fields = ("step", "epoch", "kind", "total", "cont", "sneg", "uni", "clip", "lr", "logit_scale", "elapsed_s")
    with open(log_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        while step < total:
            dataset.set_epoch(epoch)
            got = 0
            for batch in loader:
                got += 1
                stats.update(batch["stats"])
                langs.update(batch["langs"])
                lr = clic_lr(step, total, warmup, cfg.clic.lr, cfg.clic.lr_start, cfg.clic.lr_end)
                out = train_step(step, model, batch, optimizer, lr, clip_loss_fn=clip_loss, cfg=cfg.clic,
                                 device=device, amp_dtype=amp_dtype, scaler=scaler)
                row = {k: out.get(k, "") for k in fields}
                row.update(step=step, epoch=epoch, lr=lr, logit_scale=float(model.logit_scale.detach().exp()),
                           elapsed_s=round(time.time() - t_start, 2))
                writer.writerow(row)
                if step % cfg.log_every == 0 or step == total - 1:
                    f.flush()
                    log.info("step %d/%d %s loss %.4f lr %.2e", step, total, out["kind"], out["total"], lr)
                step += 1
                if step >= total:
                    break
            if got == 0:
                raise ValueError(f"{cfg.data} gave no CLIC batch of {cfg.clic.batch_size} (captions need >= 2 usable "
                                 f"sentences and a same-orientation partner; stats so far: {dict(stats)})")
            epoch += 1
    seconds = time.time() - t_start
    model.eval()
    export_dir = export_model(model, model_cfg, tokenizer, os.path.join(cfg.output_dir, "model"))
    samples = stats.get("samples", 0)
    results["train"] = {"steps": step, "epochs_started": epoch, "seconds": round(seconds, 1),
                        "steps_per_s": round(step / max(seconds, 1e-9), 3),
                        "clic_steps": sum(1 for s in range(step) if is_clic_step(s, cfg.clic.alternate)),
                        "stats": dict(stats),
                        "fallback_fraction": stats.get("fallback_swaps", 0) / samples if samples else None,
                        "taggers": _tagger_names(registry, langs),
                        "model_dir": export_dir, "device": str(device), "precision": precision}
    if cfg.eval.any():
        results["after"] = evaluate_model(model, tokenizer, preprocess, cfg.eval, device)
    with open(os.path.join(cfg.output_dir, "clic_results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, ensure_ascii=False, default=str)
    return results
