"""Caption drawn per training step (paper §4.1: each step uses one text drawn at random from
the image's k real sentences and its synthetic caption).

The draw is uniform over the image's *present* texts (a cluster with fewer than k sentences
leaves ``text3`` null; ``syn_text`` is null without a captioner) and is a function of
``hash64(seed, epoch, uid)``, so every epoch sees a fresh draw that is the same on any rank,
worker or resume. The training loader (offline and online) calls ``draw_caption``.
"""

from __future__ import annotations

from collections.abc import Sequence

from curation.hashing import hash64


def draw_caption(seed: int, epoch: int, uid: str, texts: Sequence[str | None]) -> int:
    """Index into ``texts`` (e.g. ``[text1, ..., textk, syn_text]``) of the caption to use.

    Candidates are the entries that are non-blank strings; with n of them and
    h = hash64(seed, epoch, uid), the pick is candidate ``(h * n) >> 64`` (h scaled to [0, n):
    uniform up to 2**-64). Raises ``ValueError`` when no text is present.
    """
    present = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
    if not present:
        raise ValueError(f"image {uid!r} has no caption to draw from")
    return present[(hash64(seed, epoch, uid) * len(present)) >> 64]
