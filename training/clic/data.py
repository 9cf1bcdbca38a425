"""CLIC samples, streamed from a table or a captions file (METHODS.md §1.1-1.3).

Input: rows of (uid, image, long caption, optional language) —

- a table (Parquet directory or Delta; curated tables, or any table with ``uid``, a caption
  column and an image column as the trainer reads them) through the trainer's own reader
  (``training.reader.EpochReader``, offline mode): the same row-group plan over (rank,
  worker), the same blocks of row groups, no overlap and no gap;
- a captions file: JSON lines ``{"image": path, "caption": text, "lang": ..., "uid": ...}``
  (``text`` is accepted for ``caption``; ``uid`` defaults to the image path), or CSV/TSV with a
  header naming ``image`` and ``caption``/``text`` columns, or headerless rows ``image, caption[,
  more sentences…]`` (the reference's CSV; extra columns are further sentences). Paths are
  relative to the file's folder. The file is read in windows of ``window`` lines; window w goes to
  (rank, worker) slot ``w mod (world × workers)``.

Each window of records (a block of row groups, or a file window) is one *partner pool*: a
window is read, then every record in it with a usable caption (``usable_sentences``) and a
readable image size becomes image A of one sample, in the window's hash order
(``sample_order_key``). Image B is drawn from the same window among the records with A's
orientation (``pairs.orientation``) — and A's language when one exists, so that the joined
captions stay in one language (``partner_other_language`` counts the exceptions) — at index
``hash(seed, epoch, "partner", uid_A) mod pool size`` (the pool in hash order, so the draw depends
on the window's set of records, not on their order). Nothing is materialised beyond a window.

Texts of a sample (all lowercased sentences, ``texts.join_sentences``):

- p1 = "s_A. s_B.", p2 = "s_B. s_A." (s = a caption's first usable sentence);
- p3, p4: two extra sentences drawn per caption from its other sentences (without replacement
  when it has two or more, else the one it has twice, as the reference does); the k-th of A
  joined with the k-th of B in a random order;
- the hard negative: s_A and s_B POS-tagged (``pos.TaggerRegistry``), one word swapped
  (``texts.choose_swap``/``apply_swap``), joined in a random order; a swap that fell back to
  random words is counted in ``fallback_swaps`` (and ``no_swap`` when the two sentences share
  every word);
- the plain CLIP step's text: s_A, with image A alone.

Every draw (image order, extra sentences, text orders, the swap) comes from
``random.Random(hash(seed, epoch, "clic", uid_A))`` with ``hash`` = blake2b-8 of the
"\\x1f"-joined parts (``curation.hashing.hash64``, as the curation sampling hashes), so a
sample depends on (seed, epoch, uid, its window) only — not on worker timing.

Images: the joined image and image A alone go through the same transform (the model's eval
transform by default). The reference normalises joined images with ImageNet statistics and
single ones with CLIP's (METHODS.md quirks); here both use the model's.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
import torch.utils.data as tud
from PIL import Image

from training.clic.pairs import JOIN_SIZE, join_pair, orientation
from training.clic.pos import TaggerRegistry
from training.clic.texts import apply_swap, choose_swap, guess_language, join_sentences, usable_sentences
from training.dataset import ResumableEpochs
from training.images import ImageError, load_image
from training.planning import DataPlan
from training.reader import DataConfig, EpochReader, Record
from curation.hashing import hash64
from training.sharding import blocks, sample_order_key

N_EXTRA = 2  # extra positives p3, p4
CAPTION_FILE_SUFFIXES = (".jsonl", ".csv", ".tsv")
TEXT_SLOTS = ("p1", "p2", "p3", "p4", "negative")


# ---------------------------------------------------------------- sources


class TableSource:
    """Windows (blocks of row groups) of a table for one rank, via the trainer's reader."""

    def __init__(self, table: str, *, rank: int = 0, world_size: int = 1, seed: int = 0, text_column: str = "text",
                 image_column: str | None = None, image_path_column: str | None = None,
                 image_key_column: str | None = None, image_root: str | None = None, format: str = "auto",
                 version: int | None = None, block_units: int = 4, plan: DataPlan | None = None):
        config = DataConfig(table=table, mode="offline", format=format, version=version, text_column=text_column,
                            image_bytes_column=image_column, image_path_column=image_path_column,
                            image_key_column=image_key_column, image_root=image_root, seed=seed,
                            block_units=block_units)
        self.reader = EpochReader(config, rank=rank, world_size=world_size, load_images=True, plan=plan)
        self.snapshot = self.reader.snapshot
        self.layout = f"table/{block_units}"

    def rows(self) -> int:
        """Rows of this rank's row groups (an epoch's CLIC samples are at most this)."""
        return sum(u.rows for u in self.reader.units)

    def windows(self, worker: int, num_workers: int, epoch: int) -> Iterator[list[Record]]:
        units = self.reader.worker_units(worker, num_workers, epoch)
        for blk in blocks(units, self.reader.config.block_units):
            yield self.reader.block_records(blk, epoch, with_payload=True)


class CaptionsFileSource:
    """Windows of ``window`` records of a JSON-lines / CSV / TSV captions file for one rank."""

    def __init__(self, path: str, *, rank: int = 0, world_size: int = 1, seed: int = 0, window: int = 512):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"captions file {path} not found")
        if not path.endswith(CAPTION_FILE_SUFFIXES):
            raise ValueError(f"captions file must end with one of {CAPTION_FILE_SUFFIXES}: {path}")
        if window < 2:
            raise ValueError("window must be >= 2 (a partner comes from the same window)")
        self.path, self.rank, self.world_size, self.seed, self.window = path, rank, world_size, seed, window
        self.root = os.path.dirname(os.path.abspath(path))
        self.snapshot = CaptionsFileSnapshot(path)
        self.layout = f"captions/{window}"
        next(iter(self.records()), None)  # fail now on a malformed header or first line

    def rows(self) -> float:
        """This rank's share of the file's records (its windows depend on the worker count; the
        trainer only needs the sum over ranks, the file's record count)."""
        return sum(1 for _ in self.records()) / self.world_size

    def _abs(self, image: str) -> str:
        return image if os.path.isabs(image) else os.path.join(self.root, image)

    def records(self) -> Iterator[Record]:
        """Every record of the file, in file order (all ranks; ``windows`` splits them)."""
        with open(self.path, encoding="utf-8", newline="") as f:
            if self.path.endswith(".jsonl"):
                for n, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                        image, text = row["image"], row["caption"] if "caption" in row else row["text"]
                    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                        raise ValueError(f"{self.path}:{n}: expected a JSON object with 'image' and 'caption' "
                                         f"({type(exc).__name__}: {exc})") from None
                    yield Record(str(row.get("uid", image)), text or "", row.get("lang"), 0, self._abs(image))
                return
            rows = csv.reader(f, delimiter="\t" if self.path.endswith(".tsv") else ",")
            header = next(rows, None)
            if header is None:
                return
            names = [h.strip().lower() for h in header]
            named = "image" in names and ("caption" in names or "text" in names)
            if named:
                col = {n: i for i, n in enumerate(names)}
                i_img, i_txt = col["image"], col.get("caption", col.get("text"))
                i_lang, i_uid = col.get("lang"), col.get("uid")
            else:
                rows = _chain([header], rows)
            for row in rows:
                if not row or not any(c.strip() for c in row):
                    continue
                if named:
                    image, text = row[i_img], row[i_txt]
                    lang = row[i_lang] if i_lang is not None and row[i_lang] else None
                    uid = row[i_uid] if i_uid is not None and row[i_uid] else image
                else:
                    if len(row) < 2:
                        raise ValueError(f"{self.path}: headerless rows need image, caption[, sentences...]: {row}")
                    image, text, lang, uid = row[0], join_sentences(row[1:]), None, row[0]
                yield Record(uid, text, lang, 0, self._abs(image))

    def windows(self, worker: int, num_workers: int, epoch: int) -> Iterator[list[Record]]:
        slots = self.world_size * num_workers
        slot = self.rank * num_workers + worker
        buf: list[Record] = []
        w = 0
        for rec in self.records():
            buf.append(rec)
            if len(buf) == self.window:
                if w % slots == slot:
                    yield sorted(buf, key=lambda r: sample_order_key(self.seed, epoch, r.uid))
                buf, w = [], w + 1
        if buf and w % slots == slot:
            yield sorted(buf, key=lambda r: sample_order_key(self.seed, epoch, r.uid))


@dataclass(frozen=True)
class CaptionsFileSnapshot:
    """What a checkpoint records of a captions file (a table's ``TableSnapshot`` counterpart)."""

    path: str
    version: None = None
    format: str = "captions"

    def fingerprint(self) -> str:
        """Name, size and a hash of the first 64 KiB: a resumed run must read the same file."""
        with open(self.path, "rb") as f:
            head = f.read(1 << 16)
        return f"{hash64(os.path.basename(self.path), os.path.getsize(self.path), head.hex()):016x}"


def _chain(first, rest):
    yield from first
    yield from rest


def open_source(source: str, *, rank: int = 0, world_size: int = 1, seed: int = 0, window: int = 512,
                **table_options) -> TableSource | CaptionsFileSource:
    """A captions file (by its suffix) or a table."""
    if source.endswith(CAPTION_FILE_SUFFIXES):
        return CaptionsFileSource(source, rank=rank, world_size=world_size, seed=seed, window=window)
    return TableSource(source, rank=rank, world_size=world_size, seed=seed, **table_options)


# ---------------------------------------------------------------- samples


@dataclass
class CLICSample:
    """One CLIC sample before images are loaded."""

    uid: str
    partner: str
    lang: str | None
    a_first: bool  # image A on top / on the left of the joined image
    texts: list[str]  # p1, p2, p3, p4, negative
    single_text: str  # s_A, for the plain CLIP step with image A alone
    fallback: bool = False  # the negative swapped random words (no shared POS class)
    swapped: bool = True  # False: the two sentences share every word, negative = p1's words
    payload_a: object = None
    payload_b: object = None


def _extra(sentences: Sequence[str], n: int, rng: random.Random) -> list[str]:
    """n sentences after the first: a sample without replacement, or all then draws with replacement."""
    rest = list(sentences[1:])
    if len(rest) >= n:
        return rng.sample(rest, n)
    return rest + [rest[rng.randrange(len(rest))] for _ in range(n - len(rest))]


def _ordered(first: str, second: str, rng: random.Random, lang: str | None) -> str:
    return join_sentences([first, second] if rng.random() < 0.5 else [second, first], lang)


def make_texts(uid: str, sentences_a: Sequence[str], lang_a: str | None, sentences_b: Sequence[str],
               lang_b: str | None, *, seed: int, epoch: int, registry: TaggerRegistry,
               n_extra: int = N_EXTRA) -> tuple[bool, list[str], bool, bool]:
    """``(a_first, [p1, p2, p3…, negative], fallback, swapped)`` of sample ``uid`` (module docstring)."""
    if len(sentences_a) < 2 or len(sentences_b) < 2:
        raise ValueError("both captions need at least two usable sentences")
    rng = random.Random(hash64(seed, epoch, "clic", uid))
    lang = lang_a if lang_a == lang_b else None
    a_first = rng.random() < 0.5
    s_a, s_b = sentences_a[0], sentences_b[0]
    texts = [join_sentences([s_a, s_b], lang), join_sentences([s_b, s_a], lang)]
    extra_a, extra_b = _extra(sentences_a, n_extra, rng), _extra(sentences_b, n_extra, rng)
    texts += [_ordered(x, y, rng, lang) for x, y in zip(extra_a, extra_b)]
    tag_a = registry.tag(s_a, lang_a or guess_language(s_a))
    tag_b = registry.tag(s_b, lang_b or guess_language(s_b))
    swap = choose_swap(tag_a.tokens, tag_a.tags, tag_b.tokens, tag_b.tags, rng)
    new_a, new_b = apply_swap(tag_a.tokens, tag_b.tokens, swap)
    texts.append(_ordered(tag_a.text(new_a), tag_b.text(new_b), rng, lang))
    return a_first, texts, swap is not None and swap.fallback, swap is not None


def image_size(payload: object) -> tuple[int, int]:
    """``(width, height)`` from the image header only (no full decode)."""
    if payload is None:
        raise ImageError("null_image")
    try:
        src = io.BytesIO(payload) if isinstance(payload, (bytes, bytearray, memoryview)) else str(payload)
        if isinstance(src, str) and not os.path.exists(src):
            raise ImageError("missing_file", src)
        with Image.open(src) as img:  # type: ignore[arg-type]
            return img.size
    except ImageError:
        raise
    except Exception as exc:  # noqa: BLE001 - PIL raises many types on corrupt data
        raise ImageError("decode_error", f"{type(exc).__name__}: {exc}") from None


@dataclass
class _Candidate:
    rec: Record
    sentences: list[str]
    orient: str
    lang: str | None


def plan_window(records: Sequence[Record], *, seed: int, epoch: int, registry: TaggerRegistry,
                stats: Counter | None = None, n_extra: int = N_EXTRA,
                size_of: Callable[[object], tuple[int, int]] = image_size) -> list[CLICSample]:
    """The samples of one window: each usable record is image A once, its partner B from the window."""
    stats = stats if stats is not None else Counter()
    cands: list[_Candidate] = []
    for rec in records:
        stats["records"] += 1
        sentences = usable_sentences(rec.text or "", rec.lang)
        if not sentences:
            stats["unusable_caption"] += 1
            continue
        try:
            w, h = size_of(rec.payload)
        except ImageError as exc:
            stats[exc.reason] += 1
            continue
        cands.append(_Candidate(rec, sentences, orientation(w, h), rec.lang))
    # canonical order: the result depends on the window's set of records, not on their order
    cands.sort(key=lambda c: (sample_order_key(seed, epoch, c.rec.uid), c.rec.uid))
    by_orient: dict[str, list[_Candidate]] = {}
    by_key: dict[tuple[str, str | None], list[_Candidate]] = {}
    for c in cands:
        by_orient.setdefault(c.orient, []).append(c)
        by_key.setdefault((c.orient, c.lang), []).append(c)
    out = []
    for a in cands:
        uid = a.rec.uid
        pool = [c for c in by_key[(a.orient, a.lang)] if c.rec.uid != uid]
        if not pool:
            pool = [c for c in by_orient[a.orient] if c.rec.uid != uid]
            if not pool:
                stats["no_partner"] += 1
                continue
            stats["partner_other_language"] += 1
        b = pool[hash64(seed, epoch, "partner", uid) % len(pool)]
        a_first, texts, fallback, swapped = make_texts(uid, a.sentences, a.lang, b.sentences, b.lang, seed=seed,
                                                       epoch=epoch, registry=registry, n_extra=n_extra)
        stats["planned"] += 1
        out.append(CLICSample(uid, b.rec.uid, a.lang, a_first, texts, a.sentences[0], fallback, swapped,
                              a.rec.payload, b.rec.payload))
    return out


def load_pair(sample: CLICSample, join_size: int = JOIN_SIZE) -> tuple[Image.Image, Image.Image]:
    """``(joined image, image A)`` of a sample; raises ``ImageError`` when either image fails."""
    image_a = load_image(sample.payload_a)
    image_b = load_image(sample.payload_b)
    return join_pair(image_a, image_b, sample.a_first, join_size), image_a


# ---------------------------------------------------------------- torch dataset


@dataclass
class CLICBatchMaker:
    """Everything a loader worker needs to turn windows into batches (picklable for workers)."""

    source: TableSource | CaptionsFileSource
    batch_size: int
    tokenizer: Callable | None = None
    transform: Callable | None = None
    registry: TaggerRegistry = field(default_factory=TaggerRegistry)
    seed: int = 0
    join_size: int = JOIN_SIZE
    n_extra: int = N_EXTRA
    drop_last: bool = True

    def batches(self, worker: int, num_workers: int, epoch: int, skip: int = 0) -> Iterator[dict]:
        """The batches of ``worker``; the first ``skip`` are left out (a resumed epoch: their
        images are opened, to find the same batch borders, but neither transformed nor yielded)."""
        stats: Counter = Counter()
        items: list[tuple[CLICSample, object, object]] = []
        done = 0  # batches completed by this worker, the skipped ones included
        for window in self.source.windows(worker, num_workers, epoch):
            for sample in plan_window(window, seed=self.seed, epoch=epoch, registry=self.registry, stats=stats,
                                      n_extra=self.n_extra):
                try:
                    joined, single = load_pair(sample, self.join_size)
                    if self.transform is not None and done >= skip:
                        joined, single = self.transform(joined), self.transform(single)
                except ImageError as exc:
                    stats[exc.reason] += 1
                    continue
                stats["samples"] += 1
                stats["fallback_swaps"] += int(sample.fallback)
                stats["no_swap"] += int(not sample.swapped)
                items.append((sample, joined, single))
                if len(items) == self.batch_size:
                    done += 1
                    if done > skip:
                        yield self.collate(items, worker, epoch, stats, done)
                    items, stats = [], Counter()
        if items and not self.drop_last and done >= skip:
            yield self.collate(items, worker, epoch, stats, done + 1)

    def collate(self, items: list[tuple[CLICSample, object, object]], worker: int, epoch: int,
                stats: Counter, done: int = 1) -> dict:
        """``images`` (joined) and ``single_images``; ``texts`` [5, N, L] = p1..p4, negative; ``single_texts``;
        ``cursor`` = [batches of this worker so far, 0] (``training.dataset.LoaderPosition``)."""
        samples = [s for s, _, _ in items]
        per_slot = [[s.texts[k] for s in samples] for k in range(len(samples[0].texts))]
        single = [s.single_text for s in samples]
        batch = {"uids": [s.uid for s in samples], "partners": [s.partner for s in samples],
                 "langs": [s.lang for s in samples], "worker": worker, "epoch": epoch, "stats": dict(stats),
                 "cursor": [done, 0]}
        if self.tokenizer is not None:
            batch["texts"] = torch.stack([self.tokenizer(t) for t in per_slot])
            batch["single_texts"] = self.tokenizer(single)
        else:
            batch["texts"], batch["single_texts"] = per_slot, single
        joined = [j for _, j, _ in items]
        singles = [x for _, _, x in items]
        if isinstance(joined[0], torch.Tensor):
            batch["images"], batch["single_images"] = torch.stack(joined), torch.stack(singles)
        else:
            batch["images"], batch["single_images"] = joined, singles
        return batch


class CLICDataset(ResumableEpochs, tud.IterableDataset):
    """A torch ``IterableDataset`` of whole CLIC batches of one rank (each worker batches its own windows).

    It speaks the trainer's dataset protocol (``training.train``): ``set_epoch``, ``new_position``,
    ``load_state_dict`` / ``resuming``, ``snapshot``: a checkpoint stores the batches each worker
    has delivered (``LoaderPosition.cursors[w] = [batches, 0]``) and the round-robin's next worker,
    and a resumed epoch's workers skip those batches (``CLICBatchMaker.batches(skip=...)``), so
    the run continues with the batches the uninterrupted run would have trained."""

    def __init__(self, maker: CLICBatchMaker, *, rank: int = 0, world_size: int = 1):
        super().__init__()
        self.maker = maker
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        self.snapshot = maker.source.snapshot
        self.probs_version = None
        self._resume: dict | None = None

    @property
    def plan_id(self) -> str:
        return f"clic/{self.maker.source.layout}/{self.maker.batch_size}"

    @property
    def data_seed(self) -> int:
        return self.maker.seed

    def epoch_plan(self, num_workers: int) -> None:
        """Nothing to precompute: windows are read by the workers themselves."""

    def __iter__(self) -> Iterator[dict]:
        info = tud.get_worker_info()
        physical, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        resume = self._resume if self._resume and int(self._resume["num_workers"]) == workers else None
        worker = (physical + (int(resume["next_worker"]) if resume else 0)) % workers
        skip = int(resume["cursors"].get(str(worker), (0, 0))[0]) if resume else 0
        yield from self.maker.batches(worker, workers, self.epoch, skip)


def make_clic_loader(dataset: CLICDataset, num_workers: int, *, pin_memory: bool = False):
    """A ``DataLoader`` over whole batches, like ``training.dataset.make_loader``."""
    if num_workers > 0:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return tud.DataLoader(dataset, batch_size=None, num_workers=num_workers, pin_memory=pin_memory,
                          prefetch_factor=2 if num_workers > 0 else None, persistent_workers=False)
