"""Readable per-language summary of a curation run, rendered from ``_stats.json`` alone."""

from __future__ import annotations


def format_summary(stats: dict, max_languages: int = 60) -> str:
    st = stats.get("stages", {})
    lid, match, thr, sample = (st.get(k, {}) for k in ("lid", "match", "thresholds", "sample"))
    lines = []
    if thr:
        lines.append(f"t_en = {thr['t_en']} ({thr['t_en_mode']}), English tail proportion p = {thr['p']:.4f}")
    langs = set(lid.get("per_language", {})) | set(match.get("per_language", {}))
    per_t = thr.get("per_language", {})
    kept = sample.get("per_language", {})
    matched = match.get("per_language", {})
    texts = lid.get("per_language", {})
    rows = sorted(langs, key=lambda k: (-texts.get(k, 0), k))
    header = f"{'lang':<10}{'texts':>9}{'matched':>9}{'match%':>8}{'t_lang':>8}{'kept':>8}{'kept%':>8}"
    lines += [header, "-" * len(header)]
    for lang in rows[:max_languages]:
        n, m, k = texts.get(lang, 0), matched.get(lang, 0), kept.get(lang, 0)
        t = per_t.get(lang, {}).get("t", "-")
        lines.append(f"{lang:<10}{n:>9}{m:>9}{(100 * m / n if n else 0):>7.1f}%{t!s:>8}{k:>8}"
                     f"{(100 * k / m if m else 0):>7.1f}%")
    if len(rows) > max_languages:
        lines.append(f"... {len(rows) - max_languages} more languages")
    total_n, total_m, total_k = sum(texts.values()), sum(matched.values()), sum(kept.values())
    lines.append("-" * len(header))
    lines.append(f"{'total':<10}{total_n:>9}{total_m:>9}{(100 * total_m / total_n if total_n else 0):>7.1f}%"
                 f"{'':>8}{total_k:>8}{(100 * total_k / total_m if total_m else 0):>7.1f}%")
    if match:
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(match.get("rejects_by_reason", {}).items()))
        lines.append(f"input rows {match['rows_in']} = matched {match['matched']} + rejects "
                     f"{match['rejects']} ({reasons})")
    if sample:
        lines.append(f"images: {sample['images_in']} matched, {sample['kept']} kept "
                     f"(seed {sample['seed']}, epoch {sample['epoch']})")
    if thr.get("no_threshold"):
        none = thr["no_threshold"]
        shown = ", ".join(none[:12]) + (", ..." if len(none) > 12 else "")
        lines.append(f"{len(none)} metadata languages had no matches (no threshold): {shown}")
    run = stats.get("run", {})
    if "total_seconds" in run:
        lines.append(f"wall time {run['total_seconds']:.1f}s; tables under {run.get('output')} "
                     f"({run.get('format')})")
    return "\n".join(lines)
