"""The paper's selection rules for Wikipedia metadata (MetaCLIP 2, SPEC §4), as pure functions.

Per language, with candidates already restricted to valid entries:

- **unigrams**: ranked by count (descending, ties by code-point order of the word); the
  first ``k = min(cap, floor(share × V))`` *new* entries are kept, V = number of distinct
  words. Paper: share 10 %, cap 251,465.
- **bigrams**: ``PMI(a, b) = log2(c(a,b) · N / (c(a) · c(b)))`` where N is the number of
  word tokens of the language (p(x) = c(x)/N for words and pairs alike, as in NLTK's
  ``BigramAssocMeasures.pmi`` that MetaCLIP used). Kept: ``c(a,b) >= min_count`` and
  ``PMI > min_pmi``, ranked by PMI, then count, then entry; at most ``cap`` new entries.
  Paper: PMI > 30, cap 100,646, no minimum count (1). Since c(a,b) <= min(c(a), c(b)), a
  pair can pass only if both words have ``c < N / 2**min_pmi`` (used to prune before joins).
  Entries join the two words with a space, or without one for languages without spaces.
- **titles**: article titles (main namespace, not redirects) ranked by page views when a
  page-view file covers the language, else by in-links (number of distinct articles linking
  to the title, redirects resolved one hop); titles with score 0 are not candidates; the
  first ``k = min(cap, floor(share × T))`` new entries are kept, T = number of candidates.
  Paper: share 76 %, cap 61,235.

"New" means not already given by a higher-priority source (``curation.metadata.merge_sources``
applies the quotas), as in MetaCLIP 2's merge. ``floor(share × n)`` is computed exactly (the
share is read as the decimal it is written as), so 0.29 × 100 is 29, not 28.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from curation.metadata.table import MAX_ENTRY_CHARS, validate_entry
from curation.metadata.sources.tokenize import join_bigram

# MetaCLIP 2 paper values (SPEC §4).
UNIGRAM_TOP_SHARE = 0.10
UNIGRAM_CAP = 251_465
BIGRAM_MIN_PMI = 30.0
BIGRAM_MIN_COUNT = 1
BIGRAM_CAP = 100_646
TITLE_TOP_SHARE = 0.76
TITLE_CAP = 61_235


@dataclass(frozen=True)
class SelectionRules:
    """Thresholds of the three Wikipedia sources (defaults: the paper's values)."""

    unigram_top_share: float = UNIGRAM_TOP_SHARE
    unigram_cap: int = UNIGRAM_CAP
    bigram_min_pmi: float = BIGRAM_MIN_PMI
    bigram_min_count: int = BIGRAM_MIN_COUNT
    bigram_cap: int = BIGRAM_CAP
    title_top_share: float = TITLE_TOP_SHARE
    title_cap: int = TITLE_CAP

    def problems(self) -> list[str]:
        out = []
        for name in ("unigram_top_share", "title_top_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                out.append(f"--{name.replace('_', '-')} must be in [0, 1], got {value}")
        for name in ("unigram_cap", "bigram_cap", "title_cap"):
            if getattr(self, name) < 0:
                out.append(f"--{name.replace('_', '-')} must be >= 0, got {getattr(self, name)}")
        if self.bigram_min_count < 1:
            out.append(f"--bigram-min-count must be >= 1, got {self.bigram_min_count}")
        if not math.isfinite(self.bigram_min_pmi):
            out.append("--bigram-min-pmi must be a finite number")
        return out

    def to_dict(self) -> dict:
        return asdict(self)


def top_share_size(n_candidates: int, share: float, cap: int | None) -> int:
    """``min(cap, floor(share × n))`` with exact decimal arithmetic."""
    k = math.floor(Fraction(str(share)) * int(n_candidates))
    return k if cap is None else min(int(cap), k)


def rank_unigrams(counts: Iterable[tuple[str, int]]) -> list[str]:
    """Words by count (descending), ties by the word (code-point order)."""
    return [word for word, _ in sorted(counts, key=lambda wc: (-wc[1], wc[0]))]


def bigram_pmi(c_ab, c_a, c_b, n_tokens) -> np.ndarray:
    """``log2(c_ab · N / (c_a · c_b))`` elementwise, float64 (the one PMI formula)."""
    c_ab = np.asarray(c_ab, dtype=np.float64)
    c_a = np.asarray(c_a, dtype=np.float64)
    c_b = np.asarray(c_b, dtype=np.float64)
    n = np.asarray(n_tokens, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log2(c_ab * n / (c_a * c_b))


def max_word_count_for_pmi(n_tokens: int, min_pmi: float) -> float:
    """Words counted more often than this cannot be part of a bigram with PMI > min_pmi."""
    return n_tokens / 2.0 ** min_pmi


def rank_bigrams(rows: Iterable[tuple[str, str, int, int, int]], n_tokens: int, no_space: bool,
                 min_pmi: float = BIGRAM_MIN_PMI, min_count: int = BIGRAM_MIN_COUNT) -> list[str]:
    """Bigram entries passing ``count >= min_count`` and ``PMI > min_pmi``, best first.

    ``rows``: (first word, second word, c(a,b), c(a), c(b)). Ranked by PMI (descending), then
    c(a,b) (descending), then the joined entry; a joined entry seen twice (possible without
    spaces: "ab"+"c" and "a"+"bc") is kept once, at its best rank.
    """
    rows = [r for r in rows if r[2] >= min_count]
    if not rows:
        return []
    pmi = bigram_pmi([r[2] for r in rows], [r[3] for r in rows], [r[4] for r in rows], n_tokens)
    scored = []
    for (a, b, c_ab, _, _), value in zip(rows, pmi.tolist()):
        if value > min_pmi:
            entry = join_bigram(a, b, no_space)
            if len(entry) <= MAX_ENTRY_CHARS and validate_entry(entry) is None:
                scored.append((-value, -c_ab, entry))
    scored.sort()
    ranked, seen = [], set()
    for _, _, entry in scored:
        if entry not in seen:
            seen.add(entry)
            ranked.append(entry)
    return ranked


def rank_titles(scores: Iterable[tuple[str, int]]) -> list[str]:
    """Titles with score > 0 by score (descending), ties by title."""
    return [title for title, score in sorted(((t, s) for t, s in scores if s > 0),
                                             key=lambda ts: (-ts[1], ts[0]))]


def resolve_redirects(counts: Iterable[tuple[str, int]], redirects: dict[str, str]) -> dict[str, int]:
    """Credit counts of a redirect title to its target (one hop, as MediaWiki follows them)."""
    out: dict[str, int] = {}
    for title, n in counts:
        target = redirects.get(title, title)
        out[target] = out.get(target, 0) + n
    return out


def title_scores(titles: Iterable[str], scores: dict[str, int]) -> list[tuple[str, int]]:
    """(title, score) for every article title; score 0 when it has no views/in-links."""
    return [(title, scores.get(title, 0)) for title in titles]
