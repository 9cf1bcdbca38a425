"""Static plots of a curation run (matplotlib, Agg, PNG bytes), the conventions of MetaCLIP's
and LAION's reports: per-language log-scale bars, per-language rank-frequency curves (log-log)
with the threshold t marked, cumulative head/tail share, entry counts before/after balancing.

Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot state, no GUI backend).
Every function returns PNG bytes, or None when there is nothing to draw.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from curation.report.data import NO_LANG, LanguageRow, ReportData

DPI = 100
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf", "#393b79", "#637939")
STAGE_COLORS = {"texts": "#9ecae1", "matched": "#4292c6", "kept": "#08306b"}
REASON_COLORS = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                 "#17becf", "#1f77b4", "#2ca02c")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def curve_languages(data: ReportData, n: int) -> list[str]:
    """Languages with a threshold, most matches first; English (which defines p) always included."""
    rows = sorted((r for r in data.languages if r.t and r.total_count), key=lambda r: (-r.total_count, r.lang))
    langs = [r.lang for r in rows[:n]]
    en = data.stats.get("run", {}).get("en_lang", "en")
    if en not in langs and any(r.lang == en for r in rows):
        langs = [en] + langs[:n - 1]
    return langs


def language_counts(rows: Sequence[LanguageRow], max_languages: int) -> bytes | None:
    """Grouped horizontal log-scale bars: input texts, matched texts, kept images per language."""
    rows = [r for r in rows if r.texts or r.matched or r.kept][:max_languages]
    if not rows:
        return None
    height = max(3.0, 0.32 * len(rows) + 1.2)
    fig = Figure(figsize=(10, height))
    ax = fig.subplots()
    y = np.arange(len(rows))
    w = 0.27
    for k, (name, label) in enumerate((("texts", "input texts (valid, by LID language)"),
                                       ("matched", "matched texts"), ("kept", "kept images (curated)"))):
        vals = np.array([getattr(r, name) for r in rows], dtype=float)
        ax.barh(y + (k - 1) * w, np.where(vals > 0, vals, np.nan), height=w, color=STAGE_COLORS[name],
                label=label)
    ax.set_yticks(y, [r.lang for r in rows])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("rows (log scale)")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Per-language input, matched and kept counts")
    return _png(fig)


def rank_frequency(data: ReportData, langs: Sequence[str]) -> bytes | None:
    """Entry count vs rank (log-log) per language, t_lang as a dashed line of the same colour."""
    langs = [lang for lang in langs if data.counts_before.get(lang) is not None]
    if not langs:
        return None
    fig = Figure(figsize=(10, 5.5))
    ax = fig.subplots()
    for k, lang in enumerate(langs):
        color = COLORS[k % len(COLORS)]
        counts = np.sort(data.counts_before[lang])[::-1]
        counts = counts[counts > 0]
        ranks = np.arange(1, counts.size + 1)
        t = data.thresholds.get(lang, 0)
        head = int((counts > t).sum())
        ax.step(ranks, counts, where="post", color=color, lw=1.4,
                label=f"{lang}: t={t}, {head} head / {counts.size} matched entries")
        if t:
            ax.axhline(t, color=color, ls="--", lw=0.9, alpha=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("entry rank (by count, log)")
    ax.set_ylabel("texts matching the entry (log)")
    ax.grid(which="both", alpha=0.25)
    ax.legend(fontsize=8, ncol=2)
    ax.set_title("Head and tail: entry counts per language; dashed: t_lang (entries above are down-sampled)")
    return _png(fig)


def tail_share(data: ReportData, langs: Sequence[str]) -> bytes | None:
    """Cumulative share of a language's matches in entries with count <= c, with t_lang marked.

    MetaCLIP 2 picks t_lang so that every language has the English tail proportion p: each
    curve crosses the p line at its own t_lang."""
    p = data.p
    langs = [lang for lang in langs if data.counts_before.get(lang) is not None]
    if not langs or p is None:
        return None
    fig = Figure(figsize=(10, 5))
    ax = fig.subplots()
    for k, lang in enumerate(langs):
        color = COLORS[k % len(COLORS)]
        counts = np.sort(data.counts_before[lang])
        counts = counts[counts > 0]
        if counts.size == 0:
            continue
        share = np.cumsum(counts) / counts.sum()
        ax.step(counts, share, where="post", color=color, lw=1.4, label=lang)
        t = data.thresholds.get(lang, 0)
        if t:
            ax.plot([t], [p], "o", color=color, ms=6, mec="black", mew=0.6)
    ax.set_xscale("log")
    ax.axhline(p, color="black", ls=":", lw=1)
    ax.text(0.01, p + 0.01, f"p = {p:.3f} (English tail proportion)", va="bottom", fontsize=9,
            transform=ax.get_yaxis_transform())
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("entry count c (log)")
    ax.set_ylabel("share of matches in entries with count <= c")
    ax.grid(which="both", alpha=0.25)
    ax.legend(fontsize=8, ncol=2, loc="lower right")
    ax.set_title("Cumulative head/tail share; dots: t_lang where each language reaches p")
    return _png(fig)


def before_after(data: ReportData, langs: Sequence[str]) -> bytes | None:
    """Per language: entry counts in ``matched`` (before) and in ``curated`` (after), by rank."""
    langs = [lang for lang in langs if data.counts_before.get(lang) is not None]
    if not langs or not data.counts_after:
        return None
    ncols = min(4, len(langs))
    nrows = (len(langs) + ncols - 1) // ncols
    fig = Figure(figsize=(3.2 * ncols, 2.8 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, lang in zip(axes, langs):
        before = data.counts_before[lang]
        after = data.counts_after.get(lang, np.zeros(0, dtype=np.int64))
        after = np.concatenate([after, np.zeros(max(0, before.size - after.size), dtype=np.int64)])
        order = np.lexsort((np.arange(before.size), -before))
        order = order[before[order] > 0]
        ranks = np.arange(1, order.size + 1)
        ax.step(ranks, before[order], where="post", color="#4292c6", lw=1.3, label="before (matched)")
        aft = after[order].astype(float)
        ax.plot(ranks, np.where(aft > 0, aft, np.nan), ".", color="#d62728", ms=3, label="after (curated)")
        t = data.thresholds.get(lang, 0)
        if t:
            ax.axhline(t, color="black", ls="--", lw=0.8, label=f"t = {t}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(lang, fontsize=10)
        ax.grid(which="both", alpha=0.2)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="upper right")
    for ax in axes[len(langs):]:
        ax.set_visible(False)
    fig.suptitle("Entry counts before and after balancing (x: entry rank by count before, log-log)", fontsize=11)
    fig.tight_layout()
    return _png(fig)


def head_share(data: ReportData, rows: Sequence[LanguageRow], max_languages: int) -> bytes | None:
    """Share of entry matches that fall on head entries (count > t), before vs after balancing."""
    if not data.counts_after:
        return None
    langs, before_share, after_share = [], [], []
    for r in rows:
        before = data.counts_before.get(r.lang)
        if not r.t or before is None or before.sum() == 0:
            continue
        after = data.counts_after.get(r.lang, np.zeros(0, dtype=np.int64))
        after = np.concatenate([after, np.zeros(max(0, before.size - after.size), dtype=np.int64)])
        head = before > r.t
        langs.append(r.lang)
        before_share.append(before[head].sum() / before.sum())
        after_share.append(after[head].sum() / after.sum() if after.sum() else 0.0)
        if len(langs) >= max_languages:
            break
    if not langs:
        return None
    fig = Figure(figsize=(10, 3.6))
    ax = fig.subplots()
    x = np.arange(len(langs))
    ax.bar(x - 0.2, before_share, 0.4, color="#4292c6", label="before (matched)")
    ax.bar(x + 0.2, after_share, 0.4, color="#d62728", label="after (curated)")
    ax.set_xticks(x, langs, rotation=60, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of entry matches")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Share of entry matches on head entries (count > t_lang), before vs after balancing")
    return _png(fig)


def rejects(data: ReportData, max_languages: int = 20) -> bytes | None:
    """Rejected rows by reason (log bars) and, per language, which reasons removed its rows."""
    if not data.rejects:
        return None
    reasons = sorted(data.rejects, key=lambda k: (-sum(data.rejects[k].values()), k))
    totals = [sum(data.rejects[k].values()) for k in reasons]
    by_lang: dict[str, int] = {}
    for per in data.rejects.values():
        for lang, n in per.items():
            if lang != NO_LANG:
                by_lang[lang] = by_lang.get(lang, 0) + n
    langs = sorted(by_lang, key=lambda k: (-by_lang[k], k))[:max_languages]
    fig = Figure(figsize=(10, max(3.0, 0.3 * max(len(reasons), len(langs)) + 1.2)))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
    colors = {k: REASON_COLORS[i % len(REASON_COLORS)] for i, k in enumerate(reasons)}
    ax1.barh(np.arange(len(reasons)), totals, color=[colors[k] for k in reasons])
    ax1.set_yticks(np.arange(len(reasons)), reasons, fontsize=8)
    ax1.invert_yaxis()
    if max(totals) > 50 * max(1, min(totals)):
        ax1.set_xscale("log")
        ax1.set_xlim(left=0.8)
    for i, n in enumerate(totals):
        ax1.text(n, i, f" {n:,}", va="center", fontsize=7)
    ax1.set_xlabel("rows (log)" if ax1.get_xscale() == "log" else "rows")
    ax1.set_title("Rejects by reason", fontsize=10)
    if langs:
        left = np.zeros(len(langs))
        for k in reasons:
            vals = np.array([data.rejects[k].get(lang, 0) for lang in langs], dtype=float)
            if vals.sum():
                ax2.barh(np.arange(len(langs)), vals, left=left, color=colors[k], label=k)
                left += vals
        ax2.set_yticks(np.arange(len(langs)), langs, fontsize=8)
        ax2.invert_yaxis()
        ax2.set_xlabel("rows")
        ax2.legend(fontsize=7)
        ax2.set_title("Rejects with a language, by LID language", fontsize=10)
    else:
        ax2.set_visible(False)
    fig.tight_layout()
    return _png(fig)


def _bin_low(label: str) -> int:
    return int(label.split("-")[0])


def realsyn_texts_per_pair(texts_per_pair: dict[int, int], k: int | None = None) -> bytes | None:
    """Pairs of ``realsyn_pairs`` by the number of real sentences they hold (0..k)."""
    if not texts_per_pair:
        return None
    top = max(max(texts_per_pair), k or 0)
    x = np.arange(0, top + 1)
    vals = [texts_per_pair.get(int(i), 0) for i in x]
    fig = Figure(figsize=(5, 3.2))
    ax = fig.subplots()
    ax.bar(x, vals, color="#4292c6")
    for i, n in zip(x, vals):
        if n:
            ax.text(i, n, f"{n:,}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x)
    ax.set_xlabel("real sentences linked to the image")
    ax.set_ylabel("pairs")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Sentences per image (realsyn_pairs)", fontsize=10)
    return _png(fig)


def realsyn_cluster_sizes(before: dict[str, int], after: dict[str, int], t: int | None) -> bytes | None:
    """Image clusters per size bin (powers of two), before and after balancing at ``t``."""
    bins = sorted(set(before) | set(after), key=_bin_low)
    if not bins:
        return None
    x = np.arange(len(bins))
    fig = Figure(figsize=(7, 3.4))
    ax = fig.subplots()
    ax.bar(x - 0.2, [before.get(b, 0) for b in bins], 0.4, color="#4292c6", label="before balancing")
    ax.bar(x + 0.2, [after.get(b, 0) for b in bins], 0.4, color="#d62728",
           label="after balancing" + (f" (t = {t:,})" if t else " (no cap)"))
    ax.set_xticks(x, bins, rotation=30, fontsize=8)
    ax.set_xlabel("images in the cluster")
    ax.set_ylabel("clusters")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Image-cluster sizes before and after semantic balancing", fontsize=10)
    return _png(fig)
