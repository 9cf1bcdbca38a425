"""One self-contained HTML file: inline CSS, plots as base64 PNG, no script, no external resource."""

from __future__ import annotations

import base64
import html
from datetime import datetime, timezone

from curation import __version__
from curation.report import plots
from curation.report.data import NO_LANG, ReportData
from curation.report.realsyn import RealSynData

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif;margin:0;
 color:#1b1f24;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px} h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #d0d7de;
 padding-bottom:4px} h3{font-size:15px;margin:14px 0 6px}
.sub{color:#57606a;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:16px 0}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:10px 12px}
.card .v{font-size:20px;font-weight:600} .card .k{font-size:12px;color:#57606a}
table{border-collapse:collapse;background:#fff;font-size:12.5px;margin:6px 0}
th,td{border:1px solid #d0d7de;padding:3px 7px;text-align:right} th{background:#eef1f4}
td.l,th.l{text-align:left}
.plot{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px;margin:8px 0}
.plot img{max-width:100%;display:block;margin:0 auto}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
.note{font-size:13px;color:#333;line-height:1.45} code{background:#eef1f4;padding:0 3px;border-radius:3px}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:8px;border-radius:6px;font-size:13px}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _n(value) -> str:
    return f"{value:,}" if isinstance(value, int) else _e(value)


def _img(png: bytes | None, alt: str) -> str:
    if png is None:
        return f'<p class="sub">({_e(alt)}: nothing to plot)</p>'
    data = base64.b64encode(png).decode("ascii")
    return f'<div class="plot"><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></div>'


def _table(headers, rows, left=(0,)) -> str:
    head = "".join(f'<th class="{"l" if i in left else ""}">{_e(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="{"l" if i in left else ""}">{c}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "–"


def _cards(data: ReportData) -> str:
    st = data.stats.get("stages", {})
    match, sample, thr = st.get("match", {}), st.get("sample", {}), st.get("thresholds", {})
    items = [("input rows", match.get("rows_in", st.get("lid", {}).get("rows_in", "–"))),
             ("matched texts", match.get("matched", "–")), ("rejected rows", match.get("rejects", "–")),
             ("images matched", sample.get("images_in", match.get("images", "–"))),
             ("images kept", sample.get("kept", "–")),
             ("t_en", f"{thr['t_en']:,} ({thr.get('t_en_mode', '')})" if "t_en" in thr else "–"),
             ("English tail proportion p", f"{thr['p']:.4f}" if "p" in thr else "–"),
             ("languages with a threshold", sum(1 for r in data.languages if r.t))]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{_n(v)}</div><div class="k">{_e(k)}</div></div>' for k, v in items) + "</div>"


def _run_table(data: ReportData) -> str:
    run = data.stats.get("run", {})
    st = data.stats.get("stages", {})
    meta = run.get("metadata", {})
    versions = ", ".join(f"{k} {v}" for k, v in sorted(run.get("versions", {}).items()))
    rows = [("output root", _e(data.root)), ("table format", _e(data.format)),
            ("input", _e(st.get("lid", {}).get("input", "–"))),
            ("metadata", _e(f"{meta.get('path', '–')} ({meta.get('languages', '?')} languages, "
                            f"{_n(meta.get('entries', '?'))} entries, fingerprint {meta.get('fingerprint', '?')})"
                            if meta else "–")),
            ("seed / epoch", _e(f"{st.get('sample', {}).get('seed', '–')} / {st.get('sample', {}).get('epoch', '–')}")),
            ("stage seconds", _e(", ".join(f"{k} {v.get('seconds', '?')}" for k, v in st.items()))),
            ("run updated", _e(run.get("updated_at", "–"))), ("versions", _e(versions or "–"))]
    body = "".join(f'<tr><th class="l">{_e(k)}</th><td class="l">{v}</td></tr>' for k, v in rows)
    return f"<table><tbody>{body}</tbody></table>"


def _language_table(data: ReportData) -> str:
    rows = []
    for r in data.languages:
        rows.append([_e(r.lang), _n(r.texts), _n(r.matched), _pct(r.matched, r.texts), _n(r.kept),
                     _n(r.t) if r.t else "–", _n(r.total_count), _n(r.entries_matched), _n(r.n_entries),
                     _n(r.head_entries)])
    return _table(["lang", "input texts", "matched", "match %", "kept", "t_lang", "matches",
                   "entries matched", "entries", "head entries (count > t)"], rows)


def _top_entries(data: ReportData) -> str:
    if not data.top_entries:
        return '<p class="sub">(no entry_counts table)</p>'
    blocks = []
    for lang, entries in data.top_entries.items():
        t = data.thresholds.get(lang, 0)
        rows = [[_e(e.entry), _n(e.count), f"{e.prob:.3f}", "–" if e.after is None else _n(e.after)]
                for e in entries]
        blocks.append(f"<div><h3>{_e(lang)} <span class='sub'>(t = {t:,})</span></h3>"
                      + _table(["entry", "count", "prob", "after"], rows) + "</div>")
    return '<div class="grid">' + "".join(blocks) + "</div>"


def _rejects_table(data: ReportData) -> str:
    rows = []
    for reason in sorted(data.rejects, key=lambda k: (-sum(data.rejects[k].values()), k)):
        per = data.rejects[reason]
        langs = sorted((k for k in per if k != NO_LANG), key=lambda k: (-per[k], k))
        shown = ", ".join(f"{k} {per[k]:,}" for k in langs[:10]) + (" …" if len(langs) > 10 else "")
        rows.append([_e(reason), _n(sum(per.values())), _e(shown or "–")])
    return _table(["reason", "rows", "by language (top 10)"], rows, left=(0, 2))


def _realsyn_stage_table(rs: RealSynData) -> str:
    rows = []
    for r in rs.stages:
        reasons = ", ".join(f"{k} {v:,}" for k, v in r.reasons.items())
        rows.append([_e(r.stage), _e(r.unit), _n(r.rows_in) if r.rows_in is not None else "–",
                     _n(r.rows_out) if r.rows_out is not None else "–",
                     _pct(r.rows_out, r.rows_in) if r.rows_in and r.rows_out is not None else "–",
                     _e(reasons or "–"), _e(r.seconds if r.seconds is not None else "–")])
    return _table(["stage", "counted", "in", "out", "out %", "rejected by reason", "seconds"], rows, left=(0, 1, 5))


def _realsyn_section(data: ReportData) -> str:
    rs = data.realsyn
    if rs is None:
        return ""
    k = rs.section.get("pairs", {}).get("k")
    ppl = rs.perplexity
    ppl_text = (f"skipped ({ppl.get('reason', '?')})" if ppl.get("skipped")
                else f"ran with {ppl.get('model', '?')}" if ppl else "–")
    syn = rs.synthetic
    syn_text = (f"skipped ({syn.get('reason', '?')})" if syn.get("skipped")
                else f"{syn.get('table', '?')}, band {syn.get('band', '?')}" if syn else "–")
    with_syn = "–" if rs.with_synthetic is None else f"{rs.with_synthetic:,} of {rs.pairs:,}"
    sentences = sum(n * c for n, c in rs.texts_per_pair.items())
    mean = f"{sentences / rs.pairs:.2f}" if rs.pairs and rs.texts_per_pair else "–"
    facts = [("pairs written", _n(rs.pairs)), ("real sentences per pair (mean)", _e(mean)),
             ("k (sentences retrieved per image)", _n(k) if k is not None else "–"),
             ("pairs with a synthetic caption", _e(with_syn)), ("perplexity filter", _e(ppl_text)),
             ("synthetic captions", _e(syn_text)),
             ("balancing cap t", _e(f"{rs.t:,} ({rs.balance_how})" if rs.t else rs.balance_how))]
    body = "".join(f'<tr><th class="l">{_e(a)}</th><td class="l">{b}</td></tr>' for a, b in facts)
    return "\n".join([
        "<h2>RealSyn: interleaved documents to multi-sentence pairs</h2>",
        ("<p class='note'>From the <code>realsyn</code> section of <code>_stats.json</code> and the "
         "<code>realsyn_pairs</code> table (<code>wwclip-realsyn</code>, docs/realsyn.md). Each stage's rows in and "
         "out, and why the others left; a reference is one occurrence of an image or sentence in a document, "
         "later stages keep one row per distinct image or sentence.</p>"),
        f"<table><tbody>{body}</tbody></table>",
        _realsyn_stage_table(rs),
        ("<p class='note'>Sentences per image: real sentences linked to each written pair by the hierarchical "
         "top-k (fewer than k when the image's sentence cluster holds fewer sentences). Cluster sizes: images per "
         "image k-means cluster among the eligible images, before balancing and after "
         "<code>cluster_cap_mask</code> keeps at most t per cluster (clusters per power-of-two size bin).</p>"),
        '<div class="grid">',
        _img(plots.realsyn_texts_per_pair(rs.texts_per_pair, k), "sentences per image"),
        _img(plots.realsyn_cluster_sizes(rs.sizes_before, rs.sizes_after, rs.t), "cluster sizes before/after"),
        "</div>",
    ])


def render(data: ReportData, title: str | None = None, max_languages: int = 40, curve_languages: int = 8) -> str:
    """The report as one HTML string: the curation sections when the root holds a curation run,
    the RealSyn section when it holds a ``wwclip-realsyn`` run."""
    if not data.curation:
        return _realsyn_only(data, title or "Worldwide CLIP RealSyn report")
    title = title or "Worldwide CLIP curation report"
    langs = plots.curve_languages(data, curve_languages)
    p, t_en = data.p, data.t_en
    missing = (f'<p class="warn">Tables not found (their stage has not run): {_e(", ".join(data.missing))}. '
               "Sections that need them are left empty.</p>" if data.missing else "")
    p_text = (f"English tail proportion <b>p = {p:.4f}</b>: the share of English matches that fall in entries "
              f"with count &lt; t_en = {t_en:,}." if p is not None else "")
    parts = [
        *_header(data, title),
        missing, _cards(data),
        "<h2>Run</h2>", _run_table(data),
        "<h2>Languages: input, matched, kept</h2>",
        ("<p class='note'>Input texts are valid rows by LID language; matched texts contain at least one "
         "metadata entry of their language; kept counts images in <code>curated</code> (one text per image).</p>"),
        _img(plots.language_counts(data.languages, max_languages), "per-language counts"),
        _language_table(data),
        "<h2>Head and tail: thresholds per language</h2>",
        (f"<p class='note'>{p_text} Every other language gets the count <code>t_lang</code> at which its "
         "own cumulative share of matches (entries sorted by count, ascending) is closest to p. Entries "
         "with count &gt; t_lang are <i>head</i> entries and are down-sampled with "
         "<code>prob = t / count</code>; tail entries keep every text.</p>"),
        _img(plots.rank_frequency(data, langs), "rank-frequency curves"),
        _img(plots.tail_share(data, langs), "cumulative tail share"),
        "<h2>Balancing: before and after</h2>",
        ("<p class='note'>Before: texts per entry in <code>matched</code> (<code>entry_counts</code>). "
         "After: texts per entry among the rows of <code>curated</code>. A text is kept with probability "
         "1 &minus; &prod;(1 &minus; prob) over <i>all</i> its entries, so a head entry that mostly occurs "
         "together with tail entries keeps more than t texts.</p>"),
        _img(plots.before_after(data, langs), "before/after balancing"),
        _img(plots.head_share(data, data.languages, max_languages), "head share before/after"),
        "<h2>Top entries per language</h2>",
        ("<p class='note'>By count in <code>matched</code>; prob = t / max(count, t); after = texts in "
         "<code>curated</code> with the entry.</p>"),
        _top_entries(data),
        "<h2>Rejects by reason</h2>",
        ("<p class='note'>Every input row is in exactly one of <code>matched</code> or <code>rejects</code>. "
         "Rows rejected before language ID (bad url or text) have no language.</p>"),
        _img(plots.rejects(data), "rejects by reason"),
        _rejects_table(data),
        _realsyn_section(data),
        "</main></body></html>",
    ]
    return "\n".join(parts)


def _header(data: ReportData, title: str) -> list[str]:
    return ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>",
            f"<h1>{_e(title)}</h1>",
            (f"<div class='sub'>{_e(data.root)} · rendered {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
             f"by worldwide-clip {_e(__version__)} in {data.seconds:.1f}s of table reads</div>")]


def _realsyn_only(data: ReportData, title: str) -> str:
    missing = (f'<p class="warn">Tables not found (their stage has not run): {_e(", ".join(data.missing))}. '
               "Sections that need them are left empty.</p>" if data.missing else "")
    return "\n".join([*_header(data, title), missing, _realsyn_section(data), "</main></body></html>"])
