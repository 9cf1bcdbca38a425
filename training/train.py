"""Contrastive training loop (library): explicit config in, trained model directory out.

One function, ``train(TrainConfig)``, runs single-process or under ``torchrun`` (DDP; NCCL on
GPUs, gloo on CPU). Loss is open_clip's ``ClipLoss`` with features all-gathered with gradient
across ranks; AMP bf16 (or fp16 with a grad scaler), optional gradient checkpointing, AdamW with
linear warmup then cosine decay. A checkpoint holds model, optimizer, scaler, step, epoch and
every rank's data position, so a resumed run continues mid-epoch with exactly the batches the
uninterrupted run would have seen. The argparse launcher is ``training.launch``.

Epoch length is not known in advance under online balancing, and ranks may run out of data at
different steps; ranks agree every step (one tiny all-reduce) and the epoch ends when any rank
is out, so DDP never hangs.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace

import torch
import torch.distributed as dist

from training.data import CuratedDataset, DataConfig, LoaderPosition, make_loader
from training.model import create_model, export_model, image_transforms, resolve_model_config, unwrap
from training.records import EpochReader
from training.tokenizer import Tokenizer, load_tokenizer, train_tokenizer

log = logging.getLogger("training")

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
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


@dataclass
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str = "auto") -> DistInfo:
    """Join the ``torchrun`` process group when launched by it; pick this process's device."""
    if device not in ("auto", "cuda", "cpu"):
        raise ValueError("device must be auto, cuda or cpu")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    if device == "cuda" and not use_cuda:
        raise ValueError("device=cuda but no GPU is visible")
    dev = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return DistInfo(rank, local, world, dev)


def set_cpu_threads(requested: int | None, workers: int) -> int:
    """Intra-op threads for a CPU run; oversubscribed OpenMP threads are many times slower than one."""
    if requested is None and "OMP_NUM_THREADS" in os.environ:
        return torch.get_num_threads()  # the user (or torchrun) decided
    per_process = (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    n = requested or max(1, per_process - workers)
    torch.set_num_threads(n)
    return n


def resolve_precision(precision: str, device: torch.device) -> str:
    resolved = precision if precision != "auto" else ("bf16" if device.type == "cuda" else "fp32")
    if resolved == "fp16" and device.type != "cuda":
        raise ValueError("fp16 needs CUDA; use bf16 or fp32 on CPU")
    return resolved


def cosine_lr(step: int, base_lr: float, warmup: int, total: int) -> float:
    """Linear warmup to ``base_lr`` over ``warmup`` steps, then half-cosine to 0 at ``total``."""
    if step < warmup:
        return base_lr * (step + 1) / warmup
    span = max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / span))) * base_lr


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """No weight decay on gains, biases, embeddings' scale and the logit scale (CLIP practice)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        skip = p.ndim < 2 or "bn" in name or "ln" in name or "bias" in name or "logit_scale" in name
        (no_decay if skip else decay).append(p)
    return [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]


@dataclass
class Stepper:
    """One optimisation step: forward under autocast, gathered contrastive loss, backward, clip, update."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    loss_fn: torch.nn.Module
    device: torch.device
    amp_dtype: torch.dtype | None = None
    scaler: torch.amp.GradScaler | None = None
    grad_clip: float | None = None

    def __call__(self, images: torch.Tensor, texts: torch.Tensor, lr: float) -> torch.Tensor:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        images = images.to(self.device, non_blocking=True)
        texts = texts.to(self.device, non_blocking=True)
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            image_features, text_features, logit_scale = self.model(images, texts)[:3]
            loss = self.loss_fn(image_features, text_features, logit_scale)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        if self.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        with torch.no_grad():
            unwrap(self.model).logit_scale.clamp_(0, math.log(100))
        return loss.detach()


def make_stepper(model: torch.nn.Module, info: DistInfo, *, precision: str, lr: float, weight_decay: float,
                 betas: tuple[float, float] = (0.9, 0.98), eps: float = 1e-6,
                 grad_clip: float | None = None) -> Stepper:
    """Wrap ``model`` in DDP when distributed; build AdamW, the grad scaler (fp16) and the loss."""
    from open_clip.loss import ClipLoss

    if info.world_size > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[info.device.index] if info.device.type == "cuda" else None)
    optimizer = torch.optim.AdamW(param_groups(model, weight_decay), lr=lr, betas=betas, eps=eps)
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
    # features all-gathered with gradient; each rank computes the loss of its own rows (open_clip's setup)
    loss_fn = ClipLoss(local_loss=True, gather_with_grad=True, cache_labels=True, rank=info.rank,
                       world_size=info.world_size)
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    return Stepper(model, optimizer, loss_fn, info.device, amp_dtype, scaler, grad_clip)


def _all_have(batch: object, info: DistInfo) -> bool:
    if info.world_size == 1:
        return batch is not None
    flag = torch.tensor([0 if batch is None else 1], device=info.device)
    dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item())


def _gather_objects(obj: object, info: DistInfo) -> list:
    if info.world_size == 1:
        return [obj]
    out: list = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def _barrier(info: DistInfo) -> None:
    if info.world_size > 1:
        dist.barrier()


def _sum_over_ranks(value: float, info: DistInfo) -> float:
    if info.world_size == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=info.device)
    dist.all_reduce(t)
    return float(t.item())


def _texts_for_tokenizer(data: DataConfig, limit: int) -> Iterator[str]:
    """Captions of the training table (all texts of ``matched`` in online mode), up to ``limit``."""
    reader = EpochReader(data, load_images=False)
    column = "text" if data.mode == "online" else data.text_column
    n = 0
    for unit in reader.units:
        for text in reader.reader.read(unit.file_index, unit.row_group, [column]).column(column).to_pylist():
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
    _barrier(info)
    return load_tokenizer(directory, context_length)


class Checkpoints:
    """``<output>/checkpoints/step_N.pt`` written atomically, a ``latest`` pointer, the last K kept."""

    def __init__(self, output_dir: str, keep: int):
        self.dir = os.path.join(output_dir, "checkpoints")
        self.keep = keep

    def latest(self) -> str | None:
        pointer = os.path.join(self.dir, "latest")
        if not os.path.exists(pointer):
            return None
        with open(pointer, encoding="utf-8") as f:
            path = os.path.join(self.dir, f.read().strip())
        return path if os.path.exists(path) else None

    def save(self, state: dict, step: int) -> str:
        os.makedirs(self.dir, exist_ok=True)
        name = f"step_{step:09d}.pt"
        tmp = os.path.join(self.dir, f".{name}.tmp")
        torch.save(state, tmp)
        os.replace(tmp, os.path.join(self.dir, name))
        with open(os.path.join(self.dir, ".latest.tmp"), "w", encoding="utf-8") as f:
            f.write(name)
        os.replace(os.path.join(self.dir, ".latest.tmp"), os.path.join(self.dir, "latest"))
        old = sorted(n for n in os.listdir(self.dir) if n.startswith("step_") and n.endswith(".pt"))
        for n in old[:-self.keep] if self.keep > 0 else []:
            os.remove(os.path.join(self.dir, n))
        return os.path.join(self.dir, name)


class RunLog:
    """Rank-0 progress: log lines, ``log.csv`` (W&B-style flat metrics), optional TensorBoard."""

    FIELDS = ("step", "epoch", "loss", "lr", "logit_scale", "samples_per_s", "data_wait_frac",
              "samples_seen", "bad_images", "elapsed_s")

    def __init__(self, cfg: TrainConfig, enabled: bool):
        self.enabled = enabled
        self.csv = None
        self.tb = None
        if not enabled:
            return
        if cfg.csv_log:
            path = os.path.join(cfg.output_dir, "log.csv")
            new = not os.path.exists(path)
            self.csv_file = open(path, "a", newline="", encoding="utf-8")  # noqa: SIM115 - open for the run
            self.csv = csv.DictWriter(self.csv_file, fieldnames=self.FIELDS)
            if new:
                self.csv.writeheader()
        if cfg.tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(os.path.join(cfg.output_dir, "tensorboard"))
            except ImportError:
                log.warning("TensorBoard requested but the 'tensorboard' package is not installed; CSV only")

    def write(self, row: dict) -> None:
        if not self.enabled:
            return
        log.info("step %d epoch %d loss %.4f lr %.2e samples/s %.1f data-wait %.0f%% bad-images %d",
                 row["step"], row["epoch"], row["loss"], row["lr"], row["samples_per_s"],
                 100 * row["data_wait_frac"], row["bad_images"])
        if self.csv is not None:
            self.csv.writerow(row)
            self.csv_file.flush()
        if self.tb is not None:
            for k in ("loss", "lr", "logit_scale", "samples_per_s", "data_wait_frac"):
                self.tb.add_scalar(f"train/{k}", row[k], row["step"])

    def close(self) -> None:
        if self.csv is not None:
            self.csv_file.close()
        if self.tb is not None:
            self.tb.close()


def _resolve_resume(cfg: TrainConfig, ckpts: Checkpoints) -> str | None:
    if cfg.resume is None:
        return None
    if cfg.resume == "latest":
        return ckpts.latest()  # nothing yet: a fresh start, so relaunching a job is idempotent
    if not os.path.exists(cfg.resume):
        raise FileNotFoundError(f"checkpoint {cfg.resume} not found")
    return cfg.resume


def train(cfg: TrainConfig) -> dict:
    """Train; returns a summary (steps, last loss, throughput, exported model directory)."""
    info = init_distributed(cfg.device)
    os.makedirs(cfg.output_dir, exist_ok=True)
    precision = resolve_precision(cfg.precision, info.device)
    if info.device.type == "cpu":
        set_cpu_threads(cfg.cpu_threads, cfg.workers)
    torch.manual_seed(cfg.seed)

    ckpts = Checkpoints(cfg.output_dir, cfg.keep_checkpoints)
    resume_path = _resolve_resume(cfg, ckpts)
    state = torch.load(resume_path, map_location="cpu", weights_only=False) if resume_path else None
    if state is not None:
        # Delta tables may have new versions since: resume on the snapshots the run started from
        pins = {"version": state.get("table_version"), "entry_probs_version": state.get("entry_probs_version")}
        pins = {k: int(v) for k, v in pins.items() if v is not None and getattr(cfg.data, k) is None}
        cfg = replace(cfg, data=replace(cfg.data, **pins))
    if cfg.pretrained:  # config, tokenizer and weights from the checkpoint (weights: unless resuming)
        from training.pretrained import load_pretrained

        model, model_cfg, tokenizer = load_pretrained(cfg.pretrained, model=cfg.model, tokenizer=cfg.tokenizer,
                                                      device=info.device, grad_checkpointing=cfg.grad_checkpointing,
                                                      weights=state is None)
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
    model, optimizer, scaler = stepper.model, stepper.optimizer, stepper.scaler

    step, epoch = 0, 0
    bad_total: Counter = Counter()
    if state is not None:
        unwrap(model).load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        step, epoch = int(state["step"]), int(state["epoch"])
        counters = state.get("counters") or []
        bad_total = Counter(counters[info.rank]) if len(counters) > info.rank else Counter()
        if state.get("data") is not None:
            dataset.load_state_dict(state["data"][info.rank])
        log.info("resumed from %s at step %d epoch %d", resume_path, step, epoch)
        del state
    if info.is_main:
        with open(os.path.join(cfg.output_dir, "train_config.json"), "w", encoding="utf-8") as f:
            json.dump({"config": asdict(cfg), "model_cfg": model_cfg, "world_size": info.world_size,
                       "precision": precision, "steps_per_epoch": steps_per_epoch, "total_steps": total_steps,
                       "table_version": dataset.snapshot.version, "entry_probs_version": dataset.probs_version},
                      f, indent=1, default=str)
        log.info("training %s on %s (%s, %s): %d rank(s) × batch %d, ~%d steps/epoch, %d steps, %s",
                 cfg.model, cfg.data.table, cfg.data.mode, dataset.snapshot.format, info.world_size, cfg.batch_size,
                 steps_per_epoch, total_steps, precision)

    def checkpoint(position: LoaderPosition | None, next_epoch: int) -> None:
        positions = _gather_objects(position.state_dict() if position is not None else None, info)
        counters = _gather_objects(dict(bad_total), info)
        if info.is_main:
            ckpts.save({"model": unwrap(model).state_dict(), "optimizer": optimizer.state_dict(),
                        "scaler": scaler.state_dict() if scaler is not None else None, "step": step,
                        "epoch": next_epoch, "data": positions if position is not None else None,
                        "counters": counters, "table_version": dataset.snapshot.version,
                        "entry_probs_version": dataset.probs_version, "model_cfg": model_cfg,
                        "config": asdict(cfg)}, step)
        _barrier(info)

    runlog = RunLog(cfg, info.is_main)
    order_file = None
    if cfg.record_data_order:
        os.makedirs(os.path.join(cfg.output_dir, "data_order"), exist_ok=True)
        order_path = os.path.join(cfg.output_dir, "data_order", f"rank{info.rank}.jsonl")
        order_file = open(order_path, "a", encoding="utf-8")  # noqa: SIM115 - open for the run
    last_loss = float("nan")
    t_start = time.time()
    window = {"t": time.time(), "steps": 0, "wait": 0.0, "loss": 0.0}
    done = (cfg.max_steps is not None and step >= cfg.max_steps) or (cfg.max_steps is None and epoch >= cfg.epochs)
    rates: list[float] = []
    model.train()
    while not done:
        resumed_epoch = dataset.resuming
        if not resumed_epoch:
            dataset.set_epoch(epoch)
        position = dataset.new_position(cfg.workers)
        iterator = iter(loader)
        epoch_steps = 0
        while True:
            t_wait = time.time()
            batch = next(iterator, None)
            window["wait"] += time.time() - t_wait
            if not _all_have(batch, info):
                break
            assert batch is not None
            position.update(batch)
            for k, v in batch["stats"].items():
                bad_total[k] += v
            lr = cosine_lr(step, cfg.lr, cfg.warmup_steps, total_steps)
            loss = stepper(batch["images"], batch["texts"], lr)
            step += 1
            epoch_steps += 1
            last_loss = float(loss)
            window["steps"] += 1
            window["loss"] += last_loss
            if order_file is not None:
                order_file.write(json.dumps({"step": step, "epoch": epoch, "uids": batch["uids"]}) + "\n")
                order_file.flush()
            if step % cfg.log_every == 0 or step == total_steps:
                elapsed = time.time() - window["t"]
                bad = _sum_over_ranks(sum(bad_total[r] for r in BAD_IMAGE_REASONS), info)
                rate = window["steps"] * global_batch / max(elapsed, 1e-9)
                rates.append(rate)
                runlog.write({"step": step, "epoch": epoch, "loss": window["loss"] / window["steps"], "lr": lr,
                              "logit_scale": float(unwrap(model).logit_scale.detach().exp()), "samples_per_s": rate,
                              "data_wait_frac": window["wait"] / max(elapsed, 1e-9),
                              "samples_seen": step * global_batch, "bad_images": int(bad),
                              "elapsed_s": round(time.time() - t_start, 2)})
                window = {"t": time.time(), "steps": 0, "wait": 0.0, "loss": 0.0}
            stop = cfg.stop_at_step is not None and step >= cfg.stop_at_step
            if (cfg.max_steps is not None and step >= cfg.max_steps) or stop:
                checkpoint(position, epoch)
                done = True
                break
            if cfg.save_every and step % cfg.save_every == 0:
                checkpoint(position, epoch)
        del iterator
        if done:
            break
        if epoch_steps == 0 and not resumed_epoch:
            log.warning("epoch %d gave no full batch on some rank (table smaller than the global batch?); "
                        "stopping", epoch)
            break
        epoch += 1
        dataset.set_epoch(epoch)
        checkpoint(None, epoch)
        if cfg.max_steps is None and epoch >= cfg.epochs:
            done = True

    if order_file is not None:
        order_file.close()
    runlog.close()
    export_dir = os.path.join(cfg.output_dir, "model")
    finished = (step >= cfg.max_steps) if cfg.max_steps is not None else epoch >= cfg.epochs
    if info.is_main:
        export_model(model, model_cfg, tokenizer, export_dir)
    summary = {"steps": step, "epoch": epoch, "total_steps": total_steps, "finished": finished,
               "last_loss": last_loss, "samples_per_s": (sum(rates[1:]) / len(rates[1:])) if len(rates) > 1
               else (rates[0] if rates else float("nan")), "bad_images": dict(bad_total),
               "model_dir": export_dir, "world_size": info.world_size, "seconds": round(time.time() - t_start, 2)}
    if info.is_main:
        with open(os.path.join(cfg.output_dir, "summary.json"), "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1)
    _barrier(info)
    return summary
