"""A torch ``IterableDataset`` over curated Parquet/Delta tables (SPEC §5), no export step.

Offline mode streams ``curated`` (one row per kept image). Online mode streams ``matched`` +
``entry_probs`` and redoes MetaCLIP 2's balanced sampling every epoch (see ``online``).

Work is split by row group across (rank, worker) as planned in ``sharding``: no overlap, no
gap. Each worker decodes images, tokenizes, and yields batches of ``batch_size`` samples tagged
with its logical worker id and its position ``(block, offset)``; only a worker's last batch may
be smaller, and it is always yielded (nothing is dropped here). ``RankSteps`` turns the
``DataLoader``'s stream into the rank's training steps: full batches as they come, then the
workers' last partial batches merged, so a rank has one smaller step at most.

The trainer keeps the last position per worker (``LoaderPosition``) and saves it with the
checkpoint. On resume, workers skip to their positions and worker ids are rotated so that the
``DataLoader``'s round-robin continues with the worker that was next: the resumed run sees
exactly the batches the uninterrupted run would have. Undecodable images are skipped and counted
per reason in each batch's ``stats``.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.utils.data as tud

from curation.hashing import hash64
from curation.readers import TableSnapshot
from training.images import ImageError, load_image
from training.planning import DataPlan
from training.reader import DataConfig, EpochReader, Record
from training.sharding import PLAN_VERSION


@dataclass
class LoaderPosition:
    """Consumed-batch bookkeeping of one rank: what a checkpoint needs to resume mid-epoch."""

    epoch: int
    num_workers: int
    world_size: int
    rank: int
    seed: int
    fingerprint: str
    plan: str = ""  # ``CuratedDataset.plan_id``: how row groups were dealt (positions mean nothing under another)
    cursors: dict[str, list[int]] = field(default_factory=dict)
    next_worker: int = 0
    samples: int = 0
    tail: int = 0  # samples of the merged tail (``RankSteps``) already trained

    def update(self, batch: Mapping) -> None:
        """Record that the trainer consumed ``batch`` (call only for batches actually trained on).

        A worker's full batch moves that worker's cursor and the round-robin; a step cut from the
        merged tail (``batch["tail"]``) counts its samples in ``tail``: the workers' last batches
        it came from stay unconsumed, so a resumed run reads them again and skips ``tail``."""
        n = len(batch["uids"])
        self.samples += n
        if batch.get("tail"):
            self.tail += n
            return
        w = int(batch["worker"])
        self.cursors[str(w)] = list(batch["cursor"])
        self.next_worker = (w + 1) % self.num_workers

    def state_dict(self) -> dict:
        return asdict(self)


class ResumableEpochs:
    """Mid-epoch resume of a rank's dataset (the trainer's and CLIC's): a ``LoaderPosition`` saved
    by this rank is accepted only under the same table snapshot, world size, rank, seed and plan.
    Users set ``epoch``, ``rank``, ``world_size``, ``snapshot`` and define ``plan_id`` and ``data_seed``."""

    _resume: dict | None = None
    epoch: int
    rank: int
    world_size: int
    snapshot: TableSnapshot

    @property
    def plan_id(self) -> str:
        raise NotImplementedError

    @property
    def data_seed(self) -> int:
        raise NotImplementedError

    @property
    def resuming(self) -> bool:
        """True between ``load_state_dict`` and the next ``set_epoch``."""
        return self._resume is not None

    def set_epoch(self, epoch: int) -> None:
        """Start ``epoch`` from its beginning (drops any pending resume position)."""
        self.epoch = epoch
        self._resume = None

    def load_state_dict(self, state: Mapping) -> None:
        """Resume mid-epoch from a ``LoaderPosition.state_dict()`` saved by this rank."""
        checks = {"fingerprint": self.snapshot.fingerprint(), "world_size": self.world_size,
                  "rank": self.rank, "seed": self.data_seed, "plan": self.plan_id}
        for key, want in checks.items():
            if state.get(key, "") != want:
                raise ValueError(f"cannot resume data position: saved {key}={state.get(key)!r}, now {want!r} "
                                 "(the same table snapshot, world size, seed and plan are required; a checkpoint "
                                 "written at an epoch's end resumes under any plan)")
        self.epoch = int(state["epoch"])
        self._resume = dict(state)

    def new_position(self, num_workers: int) -> LoaderPosition:
        """Bookkeeping for the current epoch, continuing the loaded resume state if any."""
        pos = LoaderPosition(self.epoch, max(1, num_workers), self.world_size, self.rank, self.data_seed,
                             self.snapshot.fingerprint(), self.plan_id)
        if self._resume is not None:
            if int(self._resume["num_workers"]) != pos.num_workers:
                raise ValueError(f"resume needs the same number of data-loader workers "
                                 f"({self._resume['num_workers']}), got {pos.num_workers}")
            pos.cursors = {k: list(v) for k, v in self._resume["cursors"].items()}
            pos.next_worker = int(self._resume["next_worker"])
            pos.samples = int(self._resume.get("samples", 0))
            pos.tail = int(self._resume.get("tail", 0))
        return pos


class CuratedDataset(ResumableEpochs, EpochReader, tud.IterableDataset):
    """Batches ``{"images", "texts", "uids", "langs", "worker", "cursor", "stats"}`` of one rank."""

    def __init__(self, config: DataConfig, *, batch_size: int, rank: int = 0, world_size: int = 1,
                 image_transform: Callable | None = None, tokenizer: Callable | None = None,
                 drop_last: bool = False, load_images: bool = True, snapshot: TableSnapshot | None = None,
                 probs_by_lang: Mapping[str, np.ndarray] | None = None, plan: DataPlan | None = None):
        """``drop_last=True`` drops every worker's last partial batch — up to ``batch_size - 1``
        samples per worker, always the same tail of each shard; the trainer never sets it (its
        ``--drop-last`` drops at most the epoch's last global step, see ``training.train``)."""
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        super().__init__(config, rank=rank, world_size=world_size, load_images=load_images, snapshot=snapshot,
                         probs_by_lang=probs_by_lang, plan=plan)
        self.batch_size = batch_size
        self.image_transform, self.tokenizer = image_transform, tokenizer
        self.drop_last = drop_last
        self._resume: dict | None = None

    @property
    def plan_id(self) -> str:
        """The dealing rule, its weights and the block size: a mid-epoch position is only valid under them."""
        return f"{PLAN_VERSION}/{self.config.balance}/{self.config.block_units}/{int(self.config.shuffle)}"

    @property
    def data_seed(self) -> int:
        return self.config.seed

    def __iter__(self) -> Iterator[dict]:
        info = tud.get_worker_info()
        physical, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        if info is not None:
            self._reader = None  # never reuse file handles inherited from the parent process
        resume = self._resume if self._resume and int(self._resume["num_workers"]) == num_workers else None
        logical = (physical + (int(resume["next_worker"]) if resume else 0)) % num_workers
        start = tuple(resume["cursors"].get(str(logical), (0, 0))) if resume else (0, 0)
        return self.iter_batches(logical, num_workers, start, in_worker=info is not None)

    def iter_batches(self, worker: int, num_workers: int, start: Sequence[int] = (0, 0),
                     in_worker: bool = True) -> Iterator[dict]:
        """The batches of logical ``worker`` of this rank from position ``start``: what a
        ``DataLoader`` worker yields (``__iter__``), callable directly (``training.coverage``)."""
        stats: Counter = Counter()
        items: list[tuple[Record, object]] = []
        cursor: tuple[int, int] = tuple(start)  # type: ignore[assignment]
        for cursor, rec in self.iter_records(worker, num_workers, self.epoch, start, self.load_images):
            stats["records"] += 1
            image = None
            if self.load_images:
                try:
                    image = load_image(rec.payload)
                    if self.image_transform is not None:
                        image = self._augment(image, rec.uid, in_worker=in_worker)
                except ImageError as exc:
                    stats[exc.reason] += 1
                    continue
                except Exception:  # noqa: BLE001 - a transform failing on a degenerate image is still a bad image
                    stats["transform_error"] += 1
                    continue
            items.append((rec, image))
            if len(items) == self.batch_size:
                yield self._collate(items, worker, cursor, stats)
                items, stats = [], Counter()
        if items and not self.drop_last:
            yield self._collate(items, worker, cursor, stats)

    def _augment(self, image, uid: str, in_worker: bool):
        """Apply the transform with the CPU generator seeded by ``(seed, epoch, uid)``: the same
        augmentation whatever the worker layout, and after a resume. (Seeding the generator
        directly costs ~1 µs; ``torch.manual_seed`` ~75 µs.)"""
        gen = torch.default_generator
        saved = None if in_worker else gen.get_state()  # the main process keeps its own stream
        gen.manual_seed(hash64(self.config.seed, self.epoch, "augment", uid) >> 1)
        try:
            return self.image_transform(image)
        finally:
            if saved is not None:
                gen.set_state(saved)

    def _collate(self, items: list[tuple[Record, object]], worker: int, cursor: tuple[int, int],
                 stats: Counter) -> dict:
        texts = [r.text for r, _ in items]
        batch = {
            "uids": [r.uid for r, _ in items],
            "langs": [r.lang for r, _ in items],
            "texts": self.tokenizer(texts) if self.tokenizer is not None else texts,
            "worker": worker,
            "cursor": list(cursor),
            "epoch": self.epoch,
            "stats": dict(stats),
        }
        if self.load_images:
            images = [im for _, im in items]
            batch["images"] = torch.stack(images) if isinstance(images[0], torch.Tensor) else images
        return batch


def _concat(values: list) -> object:
    """Concatenate batch fields: tensors along the first axis, lists end to end."""
    if isinstance(values[0], torch.Tensor):
        return torch.cat(values)
    return [v for part in values for v in part]


def _slice(value: object, a: int, b: int) -> object:
    return value[a:b]  # type: ignore[index]


class RankSteps:
    """One rank's training steps of an epoch, from its worker batches in the ``DataLoader``'s order.

    Only a worker's last batch can hold fewer than ``batch_size`` samples. Full batches become
    steps as they arrive; the partial ones are held back and, once the loader is exhausted,
    concatenated in worker order and cut into full steps and at most one smaller final step
    (``batch["tail"] = True``). A rank with ``n`` samples thus makes ``ceil(n / batch_size)``
    steps, every one full but the last. The steps look one ahead: ``has_next()`` tells the trainer
    whether this rank has another step, which all ranks need to agree on the epoch's last step.

    ``position`` is where a resumed epoch stands: tail steps it already trained (``position.tail``)
    are skipped. Bad-image counts of held batches travel with the first tail step."""

    def __init__(self, batches: Iterable[dict], batch_size: int, position: LoaderPosition | None = None):
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.batch_size = batch_size
        self._source = iter(batches)
        self._skip_tail = position.tail if position is not None else 0
        self._held: dict[int, dict] = {}
        self._tail: deque[dict] | None = None
        self._next: dict | None = self._produce()

    def __iter__(self) -> RankSteps:
        return self

    def __next__(self) -> dict:
        if self._next is None:
            raise StopIteration
        step, self._next = self._next, self._produce()
        return step

    def has_next(self) -> bool:
        return self._next is not None

    def _produce(self) -> dict | None:
        if self._tail is None:
            for batch in self._source:
                if len(batch["uids"]) >= self.batch_size:
                    return batch
                self._held[int(batch["worker"])] = batch
            self._tail = deque(self._cut_tail())
        return self._tail.popleft() if self._tail else None

    def _cut_tail(self) -> list[dict]:
        held = [self._held[w] for w in sorted(self._held)]
        if not held:
            return []
        merged = {k: _concat([b[k] for b in held]) for k in ("uids", "langs", "texts", "images") if k in held[0]}
        stats: Counter = Counter()
        for b in held:
            stats.update(b["stats"])
        n, steps = len(merged["uids"]), []
        for a in range(self._skip_tail, n, self.batch_size):
            b = min(n, a + self.batch_size)
            step = {k: _slice(v, a, b) for k, v in merged.items()}
            step.update(tail=True, worker=-1, cursor=None, epoch=held[0]["epoch"],
                        stats=dict(stats) if a == 0 else {})
            steps.append(step)
        return steps


def make_loader(dataset: CuratedDataset, num_workers: int, *, pin_memory: bool = False,
                prefetch_factor: int = 2) -> tud.DataLoader:
    """A ``DataLoader`` over whole batches (each worker batches its own stream)."""
    dataset.weights  # noqa: B018 - plan weights computed once here, not again in every forked worker
    if num_workers > 0:
        # tokenizers' thread pool does not survive fork; each worker tokenizes its own batches
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return tud.DataLoader(dataset, batch_size=None, num_workers=num_workers, pin_memory=pin_memory,
                          prefetch_factor=prefetch_factor if num_workers > 0 else None, persistent_workers=False)
