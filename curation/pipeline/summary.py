"""Readable per-language summary of a curation run, rendered from ``_stats.json`` alone."""

from __future__ import annotations


def _shown(items: list[str], n: int = 12) -> str:
    return ", ".join(items[:n]) + (", ..." if len(items) > n else "")


def _threshold_line(thr: dict) -> str:
    """How t and p were chosen, in the words of the flags."""
    source, p = thr.get("p_source", "auto"), thr["p"]
    if source == "tail_proportion":
        head = f"tail proportion p = {p:.4f} (given)"
        return head + (f", t_en = {thr['t_en']}" if thr.get("t_en") is not None else "")
    if source == "auto_fallback":
        return (f"tail proportion p = {p:.4f} (auto: English gave no tail, or no English matched; "
                "give --t-en or --tail-proportion to choose)")
    return f"t_en = {thr['t_en']} ({thr['t_en_mode']}), English tail proportion p = {p:.4f}"


def format_summary(stats: dict, max_languages: int = 60) -> str:
    st = stats.get("stages", {})
    lid, match, thr, sample = (st.get(k, {}) for k in ("lid", "match", "thresholds", "sample"))
    lines = []
    if thr:
        lines.append(_threshold_line(thr))
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
    per_lang_thr = thr.get("per_language", {})
    none = [k for k in thr.get("no_threshold", []) if not per_lang_thr.get(k, {}).get("total_count")]
    if none:
        lines.append(f"{len(none)} metadata languages had no matches (no threshold): {_shown(none)}")
    if thr.get("dropped"):
        dropped = [f"{k} ({matched.get(k, 0)} matched)" for k in thr["dropped"]]
        lines.append(f"dropped, t = 0 under the exact rule at p = {thr['p']:.4f}: {_shown(dropped)}; "
                     "keep them with --t LANG=N, or use --t-en auto / --tail-proportion")
    if thr.get("raised"):
        lines.append(f"t raised to the language's smallest non-zero count (auto; the rule gave 0): "
                     f"{_shown(thr['raised'])}")
    if thr.get("overridden"):
        lines.append(f"t given with --t: {_shown(thr['overridden'])}")
    run = stats.get("run", {})
    if "total_seconds" in run:
        lines.append(f"wall time {run['total_seconds']:.1f}s; tables under {run.get('output')} "
                     f"({run.get('format')})")
    return "\n".join(lines)
