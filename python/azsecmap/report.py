"""The HTML report: one self-contained file a security lead reads at a glance.

Inline CSS and inline SVG charts drawn here; no scripts, fonts or images fetched from anywhere.
Sections: the four scores per framework with their numerators and denominators, a control
heatmap per framework family, the top failing policies and resource types, exemptions and
their expiry, and coverage.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
from collections.abc import Mapping, Sequence
from typing import Any, Union

import polars as pl

from ._scores import FrameworkScores, framework_scores
from .catalog import Catalog
from .evaluation import Evaluation
from .outputs import atomic_write

__all__ = ["STATE_COLOURS", "render", "write_report"]

PathLike = Union[str, "os.PathLike[str]"]

#: Fill colour per control/result state, also used by the legend.
STATE_COLOURS = {
    "non_compliant": "#c62828",
    "compliant": "#2e7d32",
    "conflict": "#ef6c00",
    "exempt": "#6a1b9a",
    "unknown": "#f9a825",
    "manual": "#78909c",
    "error": "#212121",
    "not_applicable": "#d7dde2",
}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
 background:#f4f6f8;color:#1c2530}
header{background:#0f2a44;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px} header p{margin:4px 0 0;opacity:.8}
main{padding:18px 28px;max-width:1280px}
section{background:#fff;border-radius:8px;padding:14px 18px;margin:0 0 18px;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:17px;margin:0 0 10px} h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e4e8ec}
th{background:#f0f3f6} td.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #e1e6eb;border-radius:6px;padding:8px 12px;min-width:150px}
.card b{font-size:22px;display:block} .muted{color:#5f6b78;font-size:12px}
.legend span{display:inline-block;margin-right:12px;font-size:12px}
.legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px}
.note{background:#fff8e1;border-left:4px solid #f9a825;padding:6px 10px}
"""


def _e(v: object) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _pct(num: float, den: float) -> str:
    return "n/a" if not den else f"{100 * num / den:.1f}%"


def _fmt(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.2f}"


def _legend(states: Sequence[str]) -> str:
    items = "".join(
        f'<span><i style="background:{STATE_COLOURS.get(s, "#999")}"></i>{_e(s)}</span>'
        for s in states
    )
    return f'<div class="legend">{items}</div>'


def _bar_chart(rows: Sequence[tuple[str, float]], *, colour: str, unit: str, title: str) -> str:
    """Horizontal bars, one per (label, value)."""
    if not rows:
        return '<p class="muted">none</p>'
    width, label_w, bar_h = 860, 330, 20
    top = max(v for _, v in rows) or 1
    height = bar_h * len(rows) + 8
    parts = [
        f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * bar_h
        w = max(1.0, (width - label_w - 90) * value / top)
        short = label if len(label) <= 48 else label[:45] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{_e(short)}<title>{_e(label)}</title></text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" '
            f'fill="{colour}"><title>{_e(label)}: {_fmt(value)} {unit}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 14}" font-size="12">{_fmt(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _score_chart(fs: FrameworkScores) -> str:
    """Four horizontal gauges, each labelled with value and numerator/denominator."""
    width, row_h = 620, 30
    height = row_h * len(fs.scores) + 6
    parts = [
        f'<svg class="chart" role="img" aria-label="scores {_e(fs.framework)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, s in enumerate(fs.scores):
        y = 4 + i * row_h
        v = s.value or 0.0
        colour = "#2e7d32" if v >= 0.8 else "#f9a825" if v >= 0.5 else "#c62828"
        parts.append(
            f'<text x="0" y="{y + 16}" font-size="13">{_e(s.label)}</text>'
            f'<rect x="110" y="{y + 3}" width="300" height="18" fill="#e6eaee" rx="3"/>'
            f'<rect x="110" y="{y + 3}" width="{300 * v:.1f}" height="18" fill="{colour}" rx="3">'
            f"<title>{_e(s.label)}: {_fmt(s.numerator)} / {_fmt(s.denominator)}</title></rect>"
            f'<text x="420" y="{y + 16}" font-size="13" font-weight="600">'
            f"{_pct(s.numerator, s.denominator)}</text>"
            f'<text x="480" y="{y + 16}" font-size="12" fill="#5f6b78">'
            f"{_fmt(s.numerator)} / {_fmt(s.denominator)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _heatmap(fs: FrameworkScores) -> str:
    """One row per family, one square per control coloured by its state."""
    df = fs.controls
    if df.height == 0:
        return '<p class="muted">no controls</p>'
    fams: dict[str, list[dict[str, Any]]] = {}
    for r in df.iter_rows(named=True):
        fams.setdefault(str(r.get("family") or "(no family)"), []).append(r)
    cell, label_w, per_row = 14, 150, 52
    lines = sum((len(v) + per_row - 1) // per_row for v in fams.values())
    width = label_w + per_row * cell + 10
    height = lines * cell + len(fams) * 4 + 6
    parts = [
        f'<svg class="chart heatmap" role="img" aria-label="control heatmap {_e(fs.framework)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    y = 4
    for fam, rows in fams.items():
        short = fam if len(fam) <= 22 else fam[:20] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 11}" text-anchor="end" font-size="11">'
            f"{_e(short)}<title>{_e(fam)}</title></text>"
        )
        for i, r in enumerate(rows):
            x = label_w + (i % per_row) * cell
            yy = y + (i // per_row) * cell
            state = str(r["state"])
            tip = (
                f"{r['control_id']}: {state} (compliant {r.get('compliant', 0)}, "
                f"non-compliant {r.get('non_compliant', 0)}, exempt {r.get('exempt', 0)}, "
                f"unknown {r.get('unknown', 0)})"
            )
            parts.append(
                f'<rect x="{x}" y="{yy}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{STATE_COLOURS.get(state, "#999")}"><title>{_e(tip)}</title></rect>'
            )
        y += ((len(rows) + per_row - 1) // per_row) * cell + 4
    parts.append("</svg>")
    return "".join(parts)


def _coverage_chart(all_scores: Sequence[FrameworkScores]) -> str:
    """Per framework, a stacked bar: controls with evidence, automated without, manual."""
    width, row_h, label_w, bar_w = 860, 28, 200, 520
    height = row_h * len(all_scores) + 6
    parts = [
        f'<svg class="chart" role="img" aria-label="coverage" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, fs in enumerate(all_scores):
        states = fs.controls["state"].to_list()
        total = len(states) or 1
        evidence = sum(s in ("compliant", "non_compliant", "exempt", "conflict") for s in states)
        manual = sum(s == "manual" for s in states)
        rest = len(states) - evidence - manual
        y = 4 + i * row_h
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{_e(fs.framework)}</text>"
        )
        x = float(label_w)
        for n, colour, what in (
            (evidence, "#1565c0", "with evidence"),
            (rest, "#90caf9", "automated, no evidence"),
            (manual, "#b0bec5", "manual only"),
        ):
            w = bar_w * n / total
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="18" fill="{colour}">'
                f"<title>{_e(fs.framework)}: {n} controls {what}</title></rect>"
            )
            x += w
        parts.append(
            f'<text x="{label_w + bar_w + 8}" y="{y + 15}" font-size="12">'
            f"{evidence}/{len(states)} with evidence ({_pct(evidence, len(states))})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(df: pl.DataFrame, numeric: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    body = []
    for row in df.iter_rows():
        cells = "".join(
            f'<td class="n">{_e(v)}</td>' if c in numeric else f"<td>{_e(v)}</td>"
            for c, v in zip(df.columns, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _exemptions_section(results: pl.DataFrame, exemptions: pl.DataFrame | None) -> str:
    if exemptions is not None and exemptions.height:
        shown = exemptions
    elif "exemption" in results.columns:
        exempt = results.filter(pl.col("state").cast(pl.String) == "exempt")
        if exempt.height == 0:
            return '<p class="muted">No exempt results.</p>'
        keys = ["exemption", "exemption_category", "policy_id"]
        shown = (
            exempt.with_columns(pl.col(k).cast(pl.String) for k in keys)
            .group_by(*keys)
            .agg(
                pl.col("exemption_expires").first().alias("expires"),
                pl.col("resource_id").n_unique().alias("resources"),
            )
            .sort("resources", descending=True)
        )
    else:
        cols = [
            c for c in results.columns if ("exempt" in c or "expir" in c) and c not in ("state",)
        ]
        exempt = results.filter(pl.col("state").cast(pl.String) == "exempt")
        if exempt.height == 0:
            return '<p class="muted">No exempt results.</p>'
        keys = ["policy_id", *cols]
        shown = (
            exempt.with_columns(pl.col(k).cast(pl.String) for k in keys)
            .group_by(keys)
            .agg(pl.col("resource_id").n_unique().alias("resources"))
            .sort("resources", descending=True)
        )
    today = _dt.date.today().isoformat()
    note = ""
    exp_col = next((c for c in shown.columns if "expir" in c.lower()), None)
    if exp_col is not None:
        expired = shown.filter(pl.col(exp_col).cast(pl.String) < today).height
        note = f'<p class="muted">{expired} of {shown.height} expired before {today}.</p>'
    return note + _table(shown.head(200), numeric=("resources",))


def _framework_section(fs: FrameworkScores) -> str:
    states = fs.controls["state"].value_counts().sort("count", descending=True)
    present = [s for s in STATE_COLOURS if s in states["state"].to_list()]
    derived = fs.controls.filter(pl.col("derived")) if "derived" in fs.controls.columns else None
    dnote = (
        f'<p class="muted">{derived.height} control states derived through a crosswalk '
        "(mapping strength applies).</p>"
        if derived is not None and derived.height
        else ""
    )
    cards = "".join(
        f'<div class="card"><span class="muted">{_e(s.label)}</span>'
        f"<b>{_pct(s.numerator, s.denominator)}</b>"
        f'<span class="muted">{_fmt(s.numerator)} / {_fmt(s.denominator)}</span></div>'
        for s in fs.scores
    )
    counts = ", ".join(f"{r['state']} {r['count']}" for r in states.iter_rows(named=True))
    return (
        f'<section id="fw-{_e(fs.framework)}"><h2>{_e(fs.framework)}</h2>'
        f'<div class="cards">{cards}</div>{_score_chart(fs)}'
        f'<p class="muted">{fs.controls.height} controls: {_e(counts)}</p>{dnote}'
        f"<h3>Controls by family</h3>{_legend(present)}{_heatmap(fs)}</section>"
    )


def render(
    ev_or_results: Evaluation | pl.DataFrame,
    catalog: Catalog,
    frameworks: Sequence[str],
    *,
    info: Mapping[str, Mapping[str, Any]] | None = None,
    exemptions: pl.DataFrame | None = None,
    title: str = "azsecmap compliance report",
    top: int = 15,
) -> str:
    """Render the report as one self-contained HTML document.

    Args:
        ev_or_results: an :class:`Evaluation`, or a results frame (as read back by
            :func:`azsecmap.outputs.read_results`).
        catalog: the control catalog the frameworks come from.
        frameworks: framework ids to score, e.g. ``["NIST_SP_800-53_R5", "PCI_DSS_v4.0.1"]``.
        info: policy titles and severities (:func:`azsecmap.outputs.policy_info`).
        exemptions: a table of exemptions to list (else exempt result rows are summarised).
        title: the page title.
        top: how many failing policies and resource types to chart.
    """
    ev = ev_or_results if isinstance(ev_or_results, Evaluation) else Evaluation(ev_or_results)
    results = ev.results
    info = info or {}
    # Controls the policies declare themselves (stored with the results) count as evidence too.
    with_declared = catalog.with_policy_controls(info) if info else catalog
    scored = [framework_scores(ev, with_declared, fw) for fw in frameworks]
    state = results["state"].cast(pl.String)
    failing = results.filter(state == "non_compliant")
    by_policy = (
        failing.group_by(pl.col("policy_id").cast(pl.String))
        .agg(pl.col("resource_id").n_unique().alias("n"))
        .sort(["n", "policy_id"], descending=[True, False])
        .head(top)
    )
    policy_rows = [
        (f"{info.get(p, {}).get('title') or p}", float(n)) for p, n in by_policy.iter_rows()
    ]
    by_type = (
        failing.group_by(pl.col("resource_type").cast(pl.String))
        .agg(pl.col("resource_id").n_unique().alias("n"))
        .sort(["n", "resource_type"], descending=[True, False])
        .head(top)
    )
    type_rows = [(str(t), float(n)) for t, n in by_type.iter_rows()]
    totals = state.value_counts().sort("count", descending=True)
    resources = results["resource_id"].n_unique()
    total_rows = ", ".join(f"{r['state']} {r['count']:,}" for r in totals.iter_rows(named=True))
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    overview_rows = [
        {
            "framework": fs.framework,
            **{
                s.label: f"{_pct(s.numerator, s.denominator)} ({_fmt(s.numerator)}/"
                f"{_fmt(s.denominator)})"
                for s in fs.scores
            },
        }
        for fs in scored
    ]
    overview = _table(pl.DataFrame(overview_rows)) if overview_rows else ""
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing may be fetched: a browser blocks (and reports) any attempt.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(title)}</h1><p>{resources:,} resources with results, "
        f"{results.height:,} results "
        f"({_e(total_rows)}) · generated {when}</p></header><main>",
    ]
    parts.append(
        '<section><h2>Scores</h2><p class="muted">Azure-style: controls compliant, exempt or '
        "unknown over controls with evidence (controls with no automated policy or no applicable "
        "resource are left out, as Azure does); strict: compliant controls over every control; "
        "coverage: controls with evidence over every control; secure score: each scored control "
        "earns healthy / (healthy + unhealthy) resources, averaged over those controls.</p>"
        f"{overview}</section>"
    )
    parts.extend(_framework_section(fs) for fs in scored)
    policy_chart = _bar_chart(
        policy_rows, colour="#c62828", unit="resources", title="top failing policies"
    )
    type_chart = _bar_chart(
        type_rows, colour="#ad1457", unit="resources", title="top failing resource types"
    )
    parts.append(
        '<section><h2>Top failing policies</h2><p class="muted">non-compliant resources per '
        f"policy</p>{policy_chart}</section>"
    )
    parts.append(
        '<section><h2>Top failing resource types</h2><p class="muted">non-compliant resources '
        f"per type</p>{type_chart}</section>"
    )
    parts.append(
        f"<section><h2>Exemptions</h2>{_exemptions_section(results, exemptions)}</section>"
    )
    if scored:
        parts.append(f"<section><h2>Coverage</h2>{_coverage_chart(scored)}</section>")
    parts.append("</main></body></html>\n")
    return "".join(parts)


def write_report(html_text: str, path: PathLike) -> None:
    """Write a rendered report atomically."""
    with atomic_write(path) as fh:
        fh.write(html_text.encode("utf-8"))
