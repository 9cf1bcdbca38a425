"""Contrastive training loop (library): explicit config in, trained model directory out.

One function, ``train(TrainConfig)``, runs single-process or under ``torchrun`` (DDP; NCCL on
GPUs, gloo on CPU: ``training.distributed``). Loss is open_clip's ``ClipLoss`` with features
all-gathered with gradient across ranks; AMP bf16 (or fp16 with a grad scaler), optional gradient
checkpointing, AdamW with linear warmup then cosine decay (``training.optim``). A checkpoint holds
model, optimizer, scaler, step, epoch and every rank's data position (``training.checkpoint``),
so a resumed run continues mid-epoch with exactly the batches the uninterrupted run would have
seen. The argparse launcher is ``training.launch``.

Epoch length is not known in advance under online balancing, and ranks may run out of data at
different steps; ranks agree every step (one tiny all-reduce) and the epoch ends when any rank
is out, so DDP never hangs.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import IO

import torch

from training.checkpoint import Checkpoints, Progress, load_checkpoint, pinned_data, restore, save_checkpoint
from training.dataset import CuratedDataset, LoaderPosition, make_loader
from training.distributed import DistInfo, all_have, barrier, init_distributed, set_cpu_threads, sum_over_ranks
from training.model import create_model, export_model, image_transforms, resolve_model_config, unwrap
from training.optim import PRECISIONS, Stepper, cosine_lr, make_stepper, resolve_precision
from training.reader import DataConfig, EpochReader
from training.runlog import Meter, RunLog
from training.tokenizer import Tokenizer, load_tokenizer, train_tokenizer

log = logging.getLogger("training")

BAD_IMAGE_REASONS = ("null_image", "missing_file", "decode_error", "transform_error")


@dataclass
class TrainConfig:
    """Everything a run needs; validated on construction, before any work."""

    data: DataConfig
    output_dir: str
    model: str | None = "wwclip-tiny"  # None only with ``pretrained``: the config found with the checkpoint
    pretrained: str | None = None  # local open_clip checkpoint to start from (training.pretrained)
    tokenizer: str | None = None  # HF tokenizer path/name; None: train one on the data's texts
    tokenizer_vocab_size: int = 32_000
    tokenizer_max_texts: int = 2_000_000
    context_length: int | None = None  # default: the model config's
    text_vocab_size: int | None = None  # text tower rows (>= tokenizer vocab), e.g. to pad or match a baseline
    batch_size: int = 64  # per rank
    epochs: int = 1
    max_steps: int | None = None  # train this many steps, cycling epochs (default: ``epochs`` epochs)
    stop_at_step: int | None = None  # checkpoint and stop early (time-limited jobs); resume later
    steps_per_epoch: int | None = None  # override the estimate used for the schedule
    lr: float = 5e-4
    weight_decay: float = 0.2
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-6
    warmup_steps: int = 100
    grad_clip: float | None = 1.0
    precision: str = "auto"  # auto: bf16 on CUDA, fp32 on CPU
    grad_checkpointing: bool = False
    workers: int = 2
    device: str = "auto"
    cpu_threads: int | None = None  # CPU runs: intra-op threads (default: cores per process minus workers)
    seed: int = 0  # model initialisation
    log_every: int = 10
    save_every: int | None = 1000  # steps; a checkpoint is also written at each epoch end and at the end
    keep_checkpoints: int = 2
    resume: str | None = None  # "latest", a checkpoint path, or None
    csv_log: bool = True
    tensorboard: bool = False
    record_data_order: bool = False  # write the uids of every step (audits; resume tests)

    def __post_init__(self) -> None:
        if isinstance(self.data, dict):
            self.data = DataConfig(**self.data)
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}")
        for name in ("batch_size", "epochs", "workers", "log_every"):
            if getattr(self, name) < (0 if name == "workers" else 1):
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("max_steps", "stop_at_step", "steps_per_epoch", "save_every"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name} must be >= 1 when given, got {v}")
        if self.lr <= 0 or self.warmup_steps < 0:
            raise ValueError("lr must be > 0 and warmup_steps >= 0")
        self.betas = tuple(self.betas)  # type: ignore[assignment]
        if self.pretrained is None and not self.model:
            raise ValueError("model is required unless a pretrained checkpoint gives the config")
        if self.pretrained is not None and (self.context_length is not None or self.text_vocab_size is not None):
            raise ValueError("a pretrained checkpoint fixes context_length and the text vocabulary; leave them unset")


def _texts_for_tokenizer(data: DataConfig, limit: int) -> Iterator[str]:
    """Captions of the training table (all texts of ``matched`` in online mode, every caption
    column with ``caption_columns``), up to ``limit``."""
    reader = EpochReader(data, load_images=False)
    columns = ["text"] if data.mode == "online" else data.offline_text_columns()
    n = 0
    for unit in reader.units:
        table = reader.reader.read(unit.file_index, unit.row_group, columns)
        for column in columns:
            for text in table.column(column).to_pylist():
                if text:
                    yield text
                    n += 1
                    if n >= limit:
                        return


def prepare_tokenizer(cfg: TrainConfig, context_length: int, info: DistInfo) -> Tokenizer:
    """The user's tokenizer, or one trained on the data by rank 0 and saved beside the checkpoints."""
    if cfg.tokenizer:
        return load_tokenizer(cfg.tokenizer, context_length)
    directory = os.path.join(cfg.output_dir, "tokenizer")
    if info.is_main and not os.path.exists(os.path.join(directory, "tokenizer.json")):
        t0 = time.time()
        tok = train_tokenizer(_texts_for_tokenizer(cfg.data, cfg.tokenizer_max_texts), cfg.tokenizer_vocab_size,
                              context_length)
        tok.save(directory)
        log.info("trained a %d-token tokenizer on the data in %.1fs -> %s", tok.vocab_size, time.time() - t0, directory)
    barrier(info)
    return load_tokenizer(directory, context_length)


@dataclass
class Run:
    """Everything one run trains with, built once by ``_setup``."""

    cfg: TrainConfig
    info: DistInfo
    precision: str
    tokenizer: Tokenizer
    model_cfg: dict
    stepper: Stepper
    dataset: CuratedDataset
    loader: torch.utils.data.DataLoader
    steps_per_epoch: int
    total_steps: int

    @property
    def global_batch(self) -> int:
        return self.cfg.batch_size * self.info.world_size

    def finished(self, progress: Progress) -> bool:
        if self.cfg.max_steps is not None:
            return progress.step >= self.cfg.max_steps
        return progress.epoch >= self.cfg.epochs


def _setup(cfg: TrainConfig, info: DistInfo, precision: str, pretrained_weights: bool = True) -> Run:
    """Tokenizer, model, data loader, step schedule and optimizer of a run. With ``--pretrained``
    the config, tokenizer and (unless resuming: ``pretrained_weights=False``) weights come from
    the checkpoint."""
    if cfg.pretrained:
        from training.pretrained import load_pretrained

        model, model_cfg, tokenizer = load_pretrained(cfg.pretrained, model=cfg.model, tokenizer=cfg.tokenizer,
                                                      device=info.device, grad_checkpointing=cfg.grad_checkpointing,
                                                      weights=pretrained_weights)
    else:
        context_length = cfg.context_length or resolve_model_config(cfg.model)["text_cfg"]["context_length"]
        tokenizer = prepare_tokenizer(cfg, context_length, info)
        model, model_cfg = create_model(cfg.model, tokenizer, device=info.device,
                                        grad_checkpointing=cfg.grad_checkpointing, context_length=context_length,
                                        vocab_size=cfg.text_vocab_size)
    train_tf, _ = image_transforms(model_cfg)
    dataset = CuratedDataset(cfg.data, batch_size=cfg.batch_size, rank=info.rank, world_size=info.world_size,
                             image_transform=train_tf, tokenizer=tokenizer, drop_last=True)
    loader = make_loader(dataset, cfg.workers, pin_memory=info.device.type == "cuda")
    global_batch = cfg.batch_size * info.world_size
    steps_per_epoch = cfg.steps_per_epoch or max(1, dataset.estimate_epoch_samples() // global_batch)
    total_steps = cfg.max_steps or steps_per_epoch * cfg.epochs
    stepper = make_stepper(model, info, precision=precision, lr=cfg.lr, weight_decay=cfg.weight_decay,
                           betas=cfg.betas, eps=cfg.eps, grad_clip=cfg.grad_clip)
    return Run(cfg, info, precision, tokenizer, model_cfg, stepper, dataset, loader, steps_per_epoch, total_steps)


def _write_run_config(run: Run) -> None:
    cfg, dataset = run.cfg, run.dataset
    with open(os.path.join(cfg.output_dir, "train_config.json"), "w", encoding="utf-8") as f:
        json.dump({"config": asdict(cfg), "model_cfg": run.model_cfg, "world_size": run.info.world_size,
                   "precision": run.precision, "steps_per_epoch": run.steps_per_epoch,
                   "total_steps": run.total_steps, "table_version": dataset.snapshot.version,
                   "entry_probs_version": dataset.probs_version}, f, indent=1, default=str)
    log.info("training %s on %s (%s, %s): %d rank(s) × batch %d, ~%d steps/epoch, %d steps, %s",
             cfg.model, cfg.data.table, cfg.data.mode, dataset.snapshot.format, run.info.world_size, cfg.batch_size,
             run.steps_per_epoch, run.total_steps, run.precision)


class _Loop:
    """The steps of a run: epochs of batches, log lines, checkpoints, the data-order record."""

    def __init__(self, run: Run, progress: Progress, ckpts: Checkpoints):
        self.run, self.progress, self.ckpts = run, progress, ckpts
        cfg = run.cfg
        self.runlog = RunLog(cfg.output_dir, run.info.is_main, cfg.csv_log, cfg.tensorboard)
        self.order_file: IO[str] | None = None
        if cfg.record_data_order:
            os.makedirs(os.path.join(cfg.output_dir, "data_order"), exist_ok=True)
            path = os.path.join(cfg.output_dir, "data_order", f"rank{run.info.rank}.jsonl")
            self.order_file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the run
        self.meter = Meter(run.global_batch)

    def save(self, position: LoaderPosition | None, next_epoch: int) -> None:
        run = self.run
        save_checkpoint(self.ckpts, run.info, run.stepper, run.dataset, self.progress, position, next_epoch,
                        run.model_cfg, run.cfg)

    def epoch(self) -> bool:
        """One epoch (its rest after a mid-epoch resume); False when the run stops early."""
        run, cfg, progress, dataset = self.run, self.run.cfg, self.progress, self.run.dataset
        resumed_epoch = dataset.resuming
        if not resumed_epoch:
            dataset.set_epoch(progress.epoch)
        position = dataset.new_position(cfg.workers)
        iterator = iter(run.loader)
        epoch_steps = 0
        while True:
            t_wait = time.time()
            batch = next(iterator, None)
            self.meter.wait += time.time() - t_wait
            if not all_have(batch, run.info):
                break
            assert batch is not None
            position.update(batch)
            progress.bad.update(batch["stats"])
            lr = cosine_lr(progress.step, cfg.lr, cfg.warmup_steps, run.total_steps)
            loss = run.stepper(batch["images"], batch["texts"], lr)
            progress.step += 1
            epoch_steps += 1
            self.meter.add(float(loss))
            self._after_step(batch, lr)
            stop = cfg.stop_at_step is not None and progress.step >= cfg.stop_at_step
            if (cfg.max_steps is not None and progress.step >= cfg.max_steps) or stop:
                self.save(position, progress.epoch)
                return False
            if cfg.save_every and progress.step % cfg.save_every == 0:
                self.save(position, progress.epoch)
        del iterator
        if epoch_steps == 0 and not resumed_epoch:
            log.warning("epoch %d gave no full batch on some rank (table smaller than the global batch?); "
                        "stopping", progress.epoch)
            return False
        progress.epoch += 1
        dataset.set_epoch(progress.epoch)
        self.save(None, progress.epoch)
        return True

    def _after_step(self, batch: dict, lr: float) -> None:
        run, progress = self.run, self.progress
        if self.order_file is not None:
            self.order_file.write(json.dumps({"step": progress.step, "epoch": progress.epoch,
                                              "uids": batch["uids"]}) + "\n")
            self.order_file.flush()
        if progress.step % run.cfg.log_every == 0 or progress.step == run.total_steps:
            bad = sum_over_ranks(sum(progress.bad[r] for r in BAD_IMAGE_REASONS), run.info)
            self.runlog.write({"step": progress.step, "epoch": progress.epoch, "lr": lr,
                               "logit_scale": float(unwrap(run.stepper.model).logit_scale.detach().exp()),
                               "samples_seen": progress.step * run.global_batch, "bad_images": int(bad),
                               **self.meter.window()})

    def close(self) -> None:
        if self.order_file is not None:
            self.order_file.close()
        self.runlog.close()


def train(cfg: TrainConfig) -> dict:
    """Train; returns a summary (steps, last loss, throughput, exported model directory)."""
    info = init_distributed(cfg.device)
    os.makedirs(cfg.output_dir, exist_ok=True)
    precision = resolve_precision(cfg.precision, info.device)
    if info.device.type == "cpu":
        set_cpu_threads(cfg.cpu_threads, cfg.workers)
    torch.manual_seed(cfg.seed)

    ckpts = Checkpoints(cfg.output_dir, cfg.keep_checkpoints)
    resume_path = ckpts.resolve(cfg.resume)
    state = load_checkpoint(resume_path) if resume_path else None
    if state is not None:
        cfg = replace(cfg, data=pinned_data(cfg.data, state))
    run = _setup(cfg, info, precision, pretrained_weights=state is None)
    progress = Progress()
    if state is not None:
        progress = restore(state, run.stepper, run.dataset, info.rank)
        log.info("resumed from %s at step %d epoch %d", resume_path, progress.step, progress.epoch)
        del state
    if info.is_main:
        _write_run_config(run)

    loop = _Loop(run, progress, ckpts)
    run.stepper.model.train()
    while not run.finished(progress) and loop.epoch():
        pass
    loop.close()
    export_dir = os.path.join(cfg.output_dir, "model")
    if info.is_main:
        export_model(run.stepper.model, run.model_cfg, run.tokenizer, export_dir)
    summary = {"steps": progress.step, "epoch": progress.epoch, "total_steps": run.total_steps,
               "finished": run.finished(progress), "last_loss": loop.meter.last_loss,
               "samples_per_s": loop.meter.mean_rate(), "bad_images": dict(progress.bad), "model_dir": export_dir,
               "world_size": info.world_size, "seconds": round(time.time() - loop.meter.start, 2)}
    if info.is_main:
        with open(os.path.join(cfg.output_dir, "summary.json"), "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1)
    barrier(info)
    return summary
