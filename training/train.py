"""Contrastive training loop (library): explicit config in, trained model directory out.

One function, ``train(TrainConfig)``, runs single-process or under ``torchrun`` (DDP; NCCL on
GPUs, gloo on CPU: ``training.distributed``). The loss is CLIP's contrastive loss with features
all-gathered with gradient across ranks (``training.loss``; open_clip's ``ClipLoss`` on full
steps); AMP bf16 (or fp16 with a grad scaler), optional gradient checkpointing, AdamW with linear
warmup then cosine decay (``training.optim``). A checkpoint holds model, optimizer, scaler, step,
epoch and every rank's data position (``training.checkpoint``), so a resumed run continues
mid-epoch with exactly the batches the uninterrupted run would have seen. The argparse launcher
is ``training.launch``.

**An epoch trains its whole sample, each sample once.** Rank 0 reads the table's footers and
shares the plan (``training.planning``); row groups are dealt to ranks by expected yield, so the
ranks finish close together. Each rank trains full batches, then its workers' last partial
batches merged (``training.dataset.RankSteps``). Ranks exchange their step's sample count every
step (``training.distributed.step_counts``, one tiny all-gather): a rank whose data ran out takes
part with a padded batch whose rows are masked out of the loss, the loss is normalised by the
step's real samples, and the epoch ends when no rank has samples left — nothing is skipped and DDP
never hangs. ``drop_last`` skips the epoch's last step if it holds fewer than the global batch
(at most ``global batch - 1`` samples).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import IO

import torch
from PIL import Image

from training.checkpoint import Checkpoints, Progress, load_checkpoint, pinned_data, restore, save_checkpoint
from training.dataset import CuratedDataset, LoaderPosition, RankSteps, make_loader
from training.distributed import (DistInfo, barrier, broadcast_object, gather_objects, init_distributed,
                                  set_cpu_threads, step_counts, sum_over_ranks)
from training.model import create_model, export_model, image_transforms, resolve_model_config, unwrap
from training.optim import PRECISIONS, Stepper, cosine_lr, make_stepper, resolve_precision
from training.planning import DataPlan
from training.reader import DataConfig, EpochReader, shared_plan
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
    drop_last: bool = False  # skip the epoch's last step when it holds fewer than the global batch
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


def _texts_for_tokenizer(data: DataConfig, limit: int, plan: DataPlan | None = None) -> Iterator[str]:
    """Captions of the training table (all texts of ``matched`` in online mode), up to ``limit``."""
    reader = EpochReader(data, load_images=False, plan=plan)
    column = "text" if data.mode == "online" else data.text_column
    n = 0
    for unit in reader.units:
        for text in reader.reader.read(unit.file_index, unit.row_group, [column]).column(column).to_pylist():
            if text:
                yield text
                n += 1
                if n >= limit:
                    return


def prepare_tokenizer(cfg: TrainConfig, context_length: int, info: DistInfo, plan: DataPlan | None = None
                      ) -> Tokenizer:
    """The user's tokenizer, or one trained on the data by rank 0 and saved beside the checkpoints."""
    if cfg.tokenizer:
        return load_tokenizer(cfg.tokenizer, context_length)
    directory = os.path.join(cfg.output_dir, "tokenizer")
    if info.is_main and not os.path.exists(os.path.join(directory, "tokenizer.json")):
        t0 = time.time()
        tok = train_tokenizer(_texts_for_tokenizer(cfg.data, cfg.tokenizer_max_texts, plan),
                              cfg.tokenizer_vocab_size, context_length)
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
    pad_image: torch.Tensor  # one image / token row that fills a short step to ``batch_size`` rows
    pad_text: torch.Tensor

    @property
    def global_batch(self) -> int:
        return self.cfg.batch_size * self.info.world_size

    def finished(self, progress: Progress) -> bool:
        if self.cfg.max_steps is not None:
            return progress.step >= self.cfg.max_steps
        return progress.epoch >= self.cfg.epochs


def data_plan(data: DataConfig, info: DistInfo, output_dir: str) -> DataPlan:
    """The run's data plan: rank 0 reads the footers, the ranks share the rest (``training.planning``);
    expected yields are cached in ``<output_dir>/plan``."""
    return shared_plan(data, rank=info.rank, world_size=info.world_size,
                       broadcast=lambda obj: broadcast_object(obj, info),
                       all_gather=lambda obj: gather_objects(obj, info), cache_dir=os.path.join(output_dir, "plan"))


def steps_per_epoch(samples: int, global_batch: int, drop_last: bool) -> int:
    """Steps of an epoch of ``samples`` (at least 1): ``ceil(samples / G)``, or ``floor`` with ``drop_last``."""
    return max(1, samples // global_batch if drop_last else math.ceil(samples / global_batch))


def pad_step(batch: dict | None, rows: int, pad_image: torch.Tensor, pad_text: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Images and texts of a step filled up to ``rows`` rows (real rows first); ``None``: padding only."""
    n = 0 if batch is None else len(batch["uids"])
    fill_images = pad_image.unsqueeze(0).expand(rows - n, *pad_image.shape)
    fill_texts = pad_text.unsqueeze(0).expand(rows - n, *pad_text.shape)
    if batch is None:
        return fill_images.contiguous(), fill_texts.contiguous()
    if n == rows:
        return batch["images"], batch["texts"]
    return torch.cat([batch["images"], fill_images]), torch.cat([batch["texts"], fill_texts])


def _setup(cfg: TrainConfig, info: DistInfo, precision: str, pretrained_weights: bool = True) -> Run:
    """Data plan, tokenizer, model, data loader, step schedule and optimizer of a run. With
    ``--pretrained`` the config, tokenizer and (unless resuming: ``pretrained_weights=False``) weights
    come from the checkpoint."""
    plan = data_plan(cfg.data, info, cfg.output_dir)
    if cfg.pretrained:
        from training.pretrained import load_pretrained

        model, model_cfg, tokenizer = load_pretrained(cfg.pretrained, model=cfg.model, tokenizer=cfg.tokenizer,
                                                      device=info.device, grad_checkpointing=cfg.grad_checkpointing,
                                                      weights=pretrained_weights)
    else:
        context_length = cfg.context_length or resolve_model_config(cfg.model)["text_cfg"]["context_length"]
        tokenizer = prepare_tokenizer(cfg, context_length, info, plan)
        model, model_cfg = create_model(cfg.model, tokenizer, device=info.device,
                                        grad_checkpointing=cfg.grad_checkpointing, context_length=context_length,
                                        vocab_size=cfg.text_vocab_size)
    train_tf, eval_tf = image_transforms(model_cfg)
    dataset = CuratedDataset(cfg.data, batch_size=cfg.batch_size, rank=info.rank, world_size=info.world_size,
                             image_transform=train_tf, tokenizer=tokenizer, plan=plan)
    loader = make_loader(dataset, cfg.workers, pin_memory=info.device.type == "cuda")
    global_batch = cfg.batch_size * info.world_size
    per_epoch = cfg.steps_per_epoch or steps_per_epoch(dataset.estimate_epoch_samples(), global_batch, cfg.drop_last)
    total_steps = cfg.max_steps or per_epoch * cfg.epochs
    stepper = make_stepper(model, info, precision=precision, lr=cfg.lr, weight_decay=cfg.weight_decay,
                           betas=cfg.betas, eps=cfg.eps, grad_clip=cfg.grad_clip)
    pad_image = eval_tf(Image.new("RGB", (8, 8)))  # deterministic transform: leaves the RNG alone
    pad_text = tokenizer([""])[0]
    return Run(cfg, info, precision, tokenizer, model_cfg, stepper, dataset, loader, per_epoch, total_steps,
               pad_image, pad_text)


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
        dataset.epoch_plan(max(1, cfg.workers))  # computed once here; the forked workers inherit it
        t_wait = time.time()
        steps = RankSteps(run.loader, cfg.batch_size, position)
        epoch_steps = 0
        while True:
            batch = next(steps, None)
            self.meter.wait += time.time() - t_wait
            counts, more = step_counts(0 if batch is None else len(batch["uids"]), steps.has_next(), run.info)
            if sum(counts) == 0:
                break  # every rank is out of samples: the epoch's sample has been trained
            if cfg.drop_last and not more and sum(counts) < run.global_batch:
                log.info("drop_last: epoch %d's last step (%d of %d samples) skipped", progress.epoch,
                         sum(counts), run.global_batch)
                break
            if batch is not None:
                position.update(batch)
                progress.bad.update(batch["stats"])
            images, texts = pad_step(batch, cfg.batch_size, run.pad_image, run.pad_text)
            lr = cosine_lr(progress.step, cfg.lr, cfg.warmup_steps, run.total_steps)
            loss = run.stepper(images, texts, lr, counts)
            progress.step += 1
            progress.samples += sum(counts)
            epoch_steps += 1
            self.meter.add(float(loss))
            self._after_step(batch, lr)
            stop = cfg.stop_at_step is not None and progress.step >= cfg.stop_at_step
            if (cfg.max_steps is not None and progress.step >= cfg.max_steps) or stop:
                self.save(position, progress.epoch)
                return False
            if cfg.save_every and progress.step % cfg.save_every == 0:
                self.save(position, progress.epoch)
            t_wait = time.time()
        del steps
        if epoch_steps == 0 and not resumed_epoch:
            log.warning("epoch %d trained no step (empty sample, or smaller than the global batch with "
                        "drop_last); stopping", progress.epoch)
            return False
        progress.epoch += 1
        dataset.set_epoch(progress.epoch)
        self.save(None, progress.epoch)
        return True

    def _after_step(self, batch: dict | None, lr: float) -> None:
        run, progress = self.run, self.progress
        if self.order_file is not None:
            self.order_file.write(json.dumps({"step": progress.step, "epoch": progress.epoch,
                                              "uids": batch["uids"] if batch is not None else []}) + "\n")
            self.order_file.flush()
        if progress.step % run.cfg.log_every == 0 or progress.step == run.total_steps:
            bad = sum_over_ranks(sum(progress.bad[r] for r in BAD_IMAGE_REASONS), run.info)
            self.runlog.write({"step": progress.step, "epoch": progress.epoch, "lr": lr,
                               "logit_scale": float(unwrap(run.stepper.model).logit_scale.detach().exp()),
                               "samples_seen": progress.samples, "bad_images": int(bad),
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
    summary = {"steps": progress.step, "epoch": progress.epoch, "samples": progress.samples,
               "total_steps": run.total_steps,
               "finished": run.finished(progress), "last_loss": loop.meter.last_loss,
               "samples_per_s": loop.meter.mean_rate(), "bad_images": dict(progress.bad), "model_dir": export_dir,
               "world_size": info.world_size, "seconds": round(time.time() - loop.meter.start, 2)}
    if info.is_main:
        with open(os.path.join(cfg.output_dir, "summary.json"), "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1)
    barrier(info)
    return summary
