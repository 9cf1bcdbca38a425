"""MetaCLIP 2's worldwide scaling of the training recipe: batch and seen pairs from the English one.

Adding non-English pairs to a fixed recipe means fewer *English* pairs per step and in total, and
MetaCLIP 2 shows that this is what lowers English accuracy ("curse of multilinguality"). Its fix is
to scale the global batch and the number of seen pairs by the same factor ``s`` so that English
pairs per step and in total stay where the English-only recipe had them: with English making up a
share ``f`` of the training pairs, ``s = 1 / f``. The paper uses ``s = 2.3`` for ViT-H/14
(global batch 32,768 → 75,264; see ``shared/seeds/METHODS.md`` §0).

Formulas (``R`` ranks, English-only global batch ``B_en`` and seen pairs ``S_en``)::

    per-rank batch  b = floor(s · B_en / R)          (≥ 1; the global batch must split evenly)
    global batch    B = b · R                          (≤ s · B_en; e.g. 294 · 256 = 75,264)
    seen pairs      S = round(s · S_en)
    steps           T = ceil(S / B)                    (so at least S pairs are seen)

Rounding the global batch *down* to a multiple of ``R`` is what reproduces the paper's 75,264 from
2.3 × 32,768 = 75,366.4 on 256 GPUs. ``python -m training.scaling`` prints the recipe;
``training.launch --worldwide-scale S --english-batch B_EN [--english-seen-pairs S_EN]`` applies
it (per-rank ``--batch-size`` and ``--max-steps`` are then computed, not given).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import asdict, dataclass
from fractions import Fraction

METACLIP2_SCALE = 2.3


@dataclass(frozen=True)
class WorldwideRecipe:
    """The scaled recipe; ``steps``/``seen_pairs`` are ``None`` when no seen-pair budget was given."""

    scale: float
    world_size: int
    english_global_batch: int
    per_rank_batch: int
    global_batch: int
    english_seen_pairs: int | None = None
    seen_pairs: int | None = None
    steps: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def scale_from_english_share(english_pairs: int, total_pairs: int) -> float:
    """``s = total / english``: the factor that keeps the English pairs seen per step unchanged."""
    if english_pairs <= 0 or total_pairs < english_pairs:
        raise ValueError(f"need 0 < english_pairs <= total_pairs, got {english_pairs} and {total_pairs}")
    return total_pairs / english_pairs


def worldwide_recipe(english_global_batch: int, world_size: int = 1, scale: float = METACLIP2_SCALE,
                     english_seen_pairs: int | float | None = None) -> WorldwideRecipe:
    """Per-rank and global batch, seen pairs and steps for ``scale`` × the English-only recipe."""
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    if int(english_global_batch) != english_global_batch or english_global_batch < 1:
        raise ValueError(f"english_global_batch must be a positive integer, got {english_global_batch!r}")
    if int(world_size) != world_size or world_size < 1:
        raise ValueError(f"world_size must be a positive integer, got {world_size!r}")
    english_global_batch, world_size = int(english_global_batch), int(world_size)
    exact = Fraction(repr(float(scale)))  # 2.3 as 23/10: no float error at the floor (2.5 x 64 / 2 = 80, not 79)
    per_rank = math.floor(exact * english_global_batch / world_size)
    if per_rank < 1:
        raise ValueError(f"{scale} x {english_global_batch} pairs over {world_size} ranks is less than one per rank")
    global_batch = per_rank * world_size
    if english_seen_pairs is None:
        return WorldwideRecipe(float(scale), world_size, english_global_batch, per_rank, global_batch)
    if not math.isfinite(float(english_seen_pairs)) or english_seen_pairs <= 0:
        raise ValueError(f"english_seen_pairs must be positive, got {english_seen_pairs!r}")
    seen = round(exact * Fraction(repr(float(english_seen_pairs))))
    steps = math.ceil(seen / global_batch)
    return WorldwideRecipe(float(scale), world_size, english_global_batch, per_rank, global_batch,
                           int(round(float(english_seen_pairs))), seen, steps)


def format_recipe(r: WorldwideRecipe) -> str:
    lines = [f"worldwide scale        {r.scale:g}",
             f"ranks                  {r.world_size:,}",
             f"English global batch   {r.english_global_batch:,}",
             f"global batch           {r.global_batch:,}  (= {r.per_rank_batch:,} per rank x {r.world_size:,})"]
    if r.steps is not None:
        lines += [f"English seen pairs     {r.english_seen_pairs:,}",
                  f"seen pairs             {r.seen_pairs:,}",
                  f"steps                  {r.steps:,}  (--max-steps)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.scaling", description=__doc__.split("\n")[0])
    ap.add_argument("--english-batch", type=int, required=True, help="global batch of the English-only recipe")
    ap.add_argument("--english-seen-pairs", type=float, help="seen pairs of the English-only recipe (e.g. 12.8e9)")
    ap.add_argument("--world-size", type=int, default=1, help="number of ranks (GPUs)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--scale", type=float, help=f"batch/seen-pair factor (default {METACLIP2_SCALE}, MetaCLIP 2)")
    g.add_argument("--english-share", type=float, help="fraction of English pairs in the data; scale = 1 / share")
    args = ap.parse_args(argv)
    try:
        if args.english_share is not None:
            if not 0 < args.english_share <= 1:
                raise ValueError("--english-share must be in (0, 1]")
            scale = 1.0 / args.english_share
        else:
            scale = args.scale if args.scale is not None else METACLIP2_SCALE
        recipe = worldwide_recipe(args.english_batch, args.world_size, scale, args.english_seen_pairs)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_recipe(recipe))
    return 0


if __name__ == "__main__":
    sys.exit(main())
