"""The evaluation report as one self-contained HTML document.

Self-contained means the file is all there is: styles inline, charts as inline SVG, no
scripts, fonts, images or links to load. A Content-Security-Policy meta tag makes a
browser refuse any load the document might still ask for. The KFP UI shows an HTML
artifact in a sandboxed iframe, where scripts would not run anyway.
"""

from __future__ import annotations

import math
import os
from html import escape
from pathlib import Path

from portway.report import plots
from portway.steps.evaluate import METRIC_NAMES
from portway.steps.gate import HIGHER_IS_BETTER

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1180px;
       color: #1b1b1b; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child, #gate th:last-child, #gate td:last-child { text-align: left; }
thead th { background: #f3f5f7; }
.verdict { display: inline-block; padding: 4px 12px; border-radius: 4px; font-weight: bold; color: white; }
.passed { background: #2e7d32; } .failed { background: #c62828; }
.better { color: #2e7d32; } .worse { color: #c62828; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure { margin: 0; } figure svg { max-width: 100%; height: auto; }
.note { color: #555; font-size: 13px; } .error { color: #c62828; font-weight: bold; }
"""


def format_metric(value: float | None) -> str:
    """How every figure appears in the report (and how tests find it)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.4f}"


def _figure(name: str, svg: str, caption: str) -> str:
    return f'<figure data-plot="{name}">{svg}<figcaption class="note">{escape(caption)}</figcaption></figure>'


def _table(header: list[str], rows: list[list[str]], attrs: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    return f"<table {attrs}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _metrics_table(candidate: dict, champion) -> str:
    has_champion = champion is not None and champion.metrics
    header = ["metric", "candidate"] + (["champion", "candidate − champion"] if has_champion else [])
    rows = []
    for name in METRIC_NAMES:
        value = candidate["metrics"][name]
        cells = [f"<td>{name}</td>", f'<td data-metric="{name}" data-model="candidate">{format_metric(value)}</td>']
        if has_champion:
            theirs = champion.metrics[name]
            delta = value - theirs
            better = delta > 0 if name in HIGHER_IS_BETTER else delta < 0
            css = "" if delta == 0 else ("better" if better else "worse")
            cells += [f'<td data-metric="{name}" data-model="champion">{format_metric(theirs)}</td>',
                      f'<td class="{css}">{delta:+.4f}</td>']
        rows.append(cells)
    return _table(header, rows, 'id="metrics"')


def _gate_section(decision: dict, champion) -> str:
    verdict = "passed" if decision["passed"] else "failed"
    rows = []
    for check in decision["checks"]:
        bound = "—" if check["bound"] is None else format_metric(check["bound"])
        rows.append([f"<td>{escape(check['rule'])}</td>", f"<td>{format_metric(check['value'])}</td>",
                     f"<td>{bound}</td>", f"<td>{'yes' if check['passed'] else 'no'}</td>",
                     f"<td>{escape(check['note'])}</td>"])
    if champion is None:
        who = '<p class="note">No approved version in this model group yet: nothing to compare against.</p>'
    elif champion.error:
        who = f'<p class="error">{escape(champion.error)}</p>'
    else:
        who = (f'<p class="note">Champion: <b>{escape(champion.reference)}</b> (newest Approved version), '
               "scored on this run's test split.</p>")
    return (f'<h2>Gate</h2><p><span class="verdict {verdict}" id="gate-verdict">{verdict.upper()}</span> '
            f"{escape(decision['summary'])}</p>{who}"
            + _table(["rule", "candidate", "bound", "passed", "note"], rows, 'id="gate"'))


def _profile_section(profile: dict) -> str:
    balance = profile.get("class_balance", {})
    rows_total = profile.get("rows", 0) or 1
    splits = profile.get("splits", {})
    facts = [["rows", f"{profile.get('rows', 0):,}"], ["columns", f"{profile.get('columns', 0):,}"],
             ["target", escape(str(profile.get("target", "")))],
             *[[f"{name} split", f"{count:,}"] for name, count in splits.items()]]
    facts_table = _table(["", "value"], [[f"<td>{k}</td>", f"<td>{v}</td>"] for k, v in facts], 'id="profile"')
    balance_table = _table(
        ["class", "rows", "share"],
        [[f"<td>{escape(str(c))}</td>", f"<td>{n:,}</td>", f"<td>{n / rows_total:.1%}</td>"] for c, n in balance.items()],
        'id="class-balance"')
    missing = profile.get("missing_values", {})
    missing_table = _table(
        ["column", "missing", "share"],
        [[f"<td>{escape(c)}</td>", f"<td>{n:,}</td>", f"<td>{n / rows_total:.1%}</td>"] for c, n in missing.items()],
        'id="missing-values"')
    balance_chart = plots.bar_chart({str(c): n for c, n in balance.items()}, "Class balance", "rows",
                                    "class-balance", color="#5c6bc0")
    top_missing = "" if len(missing) <= plots.MAX_BARS else f" (the {plots.MAX_BARS} columns with the most)"
    missing_chart = plots.bar_chart(missing, "Missing values per column", "missing cells", "missing-values",
                                    color="#8d6e63", empty_note="no missing values in any column")
    source = profile.get("source", {}).get("uri", "")
    return (
        f"<h2>Data profile</h2><p class='note'>From the process step: {escape(str(source))}</p>"
        f'<div class="row">{facts_table}{balance_table}</div>'
        f'<div class="row">{_figure("class-balance", balance_chart, "rows per class in the whole dataset")}</div>'
        f'<div class="row">{_figure("missing-values", missing_chart, "missing cells per feature column" + top_missing)}'
        f"{missing_table}</div>"
    )


def render_report(model_group: str, candidate: dict, champion, decision: dict, profile: dict) -> str:
    """The report's HTML. `candidate` is evaluate_model's result; `champion` a ChampionScore or None."""
    scored_champion = champion if champion is not None and not champion.error else None
    champion_name = f"champion {champion.reference}" if champion is not None else ""
    classes = [str(c) for c in candidate["classes"]]
    parts = [
        f"<h1>Evaluation report: {escape(model_group)}</h1>",
        f'<p class="sub">Candidate scored on {candidate["test_rows"]:,} test rows'
        + (f", beside {escape(champion_name)} on the same rows" if scored_champion else "") + ".</p>",
        _gate_section(decision, champion),
        "<h2>Metrics (test split)</h2>",
        _metrics_table(candidate, scored_champion),
    ]

    parts.append("<h2>Curves</h2>")
    if candidate["curves"]:
        curves = []
        for kind, caption in (("roc", "ROC"), ("precision_recall", "Precision-recall")):
            svg = plots.curve_chart(
                kind, candidate["curves"][kind], scored_champion.curves.get(kind) if scored_champion else None,
                f"candidate (AUC {format_metric(candidate['metrics']['auc'])})" if kind == "roc" else "candidate",
                (f"{champion_name} (AUC {format_metric(scored_champion.metrics['auc'])})"
                 if scored_champion and kind == "roc" else champion_name),
            )
            curves.append(_figure(kind.replace("_", "-"), svg, f"{caption} on the test split"
                                  + (", champion dashed" if scored_champion else "")))
        parts.append(f'<div class="row">{"".join(curves)}</div>')
    else:
        parts.append('<p class="note">ROC and precision-recall curves are drawn for binary targets only; '
                     f"this target has {len(classes)} classes.</p>")

    parts.append("<h2>Confusion matrix</h2>")
    heatmaps = [_figure("confusion-matrix", plots.confusion_heatmap(candidate["confusion_matrix"], classes,
                                                                     "Candidate", "confusion"),
                        "rows: actual class; columns: predicted class (threshold 0.5)")]
    if scored_champion:
        heatmaps.append(_figure("confusion-matrix-champion",
                                plots.confusion_heatmap(scored_champion.confusion_matrix, classes,
                                                        f"Champion {scored_champion.reference}", "confusion-champion"),
                                "the champion on the same rows"))
    parts.append(f'<div class="row">{"".join(heatmaps)}</div>')

    importance = candidate.get("feature_importance", {})
    parts.append("<h2>Feature importance</h2>")
    parts.append(_figure("feature-importance",
                         plots.bar_chart(importance, f"Top {plots.MAX_BARS} features by gain", "gain",
                                         "importance", empty_note="the model has no splits"),
                         "XGBoost gain: the mean loss reduction of the splits on each feature"))
    parts.append(_profile_section(profile))

    body = "\n".join(parts)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>Evaluation report: {escape(model_group)}</title><style>{_STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


def build_report(path: str | os.PathLike, **content) -> Path:
    """Render the report and write it to `path` atomically (readers never see half a file)."""
    html = render_report(**content)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, path)
    return path
