"""Text views of registry records: the list table, `show`, `compare` and the model card.

Pure functions of records (and, for the card, the version's feature schema and evaluation),
so they are tested without a store.
"""

from __future__ import annotations

import json

from portway.steps.gate import LOWER_IS_BETTER

DEFAULT_METRIC = "auc"
METRIC_ORDER = ("auc", "accuracy", "precision", "recall", "f1", "log_loss")


def gate_metric(record: dict) -> str:
    """The metric the version's gate decided on (the first rule's), else AUC."""
    checks = (record.get("lineage") or {}).get("gate", {}).get("checks") or []
    return checks[0].get("metric", DEFAULT_METRIC) if checks else DEFAULT_METRIC


def short_hash(value: str | None, length: int = 12) -> str:
    """`sha256:3f2a…` -> `sha256:3f2a9c1b7d4e`; anything else cut to length."""
    if not value:
        return "-"
    kind, sep, digest = value.partition(":")
    return f"{kind}:{digest[:length]}" if sep else value[:length]


def short_time(iso: str | None) -> str:
    return (iso or "-")[:19].replace("T", " ")


def format_number(value) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    return "\n".join(lines)


def list_table(records: list[dict]) -> str:
    rows = []
    for r in records:
        metric = gate_metric(r)
        rows.append([
            str(r["version"]), r.get("approval_status", "?"),
            f"{metric}={format_number((r.get('metrics') or {}).get(metric))}",
            short_time(r.get("created_at")), short_hash((r.get("lineage") or {}).get("data_sha256")),
        ])
    return _table(["version", "status", "metric", "created", "data hash"], rows)


def ordered_metrics(*metric_sets: dict) -> list[str]:
    names = {name for metrics in metric_sets for name in metrics}
    return [m for m in METRIC_ORDER if m in names] + sorted(names - set(METRIC_ORDER))


def history_rows(record: dict) -> list[list[str]]:
    return [[short_time(h.get("at")), h.get("from") or "-", h.get("status", "?"), h.get("by", "?"),
             h.get("reason", "")] for h in record.get("history", [])]


def show_text(record: dict) -> str:
    lineage = record.get("lineage") or {}
    lines = [
        f"{record['group']}:{record['version']}  {record.get('approval_status')}",
        f"  created      {record.get('created_at')} by {record.get('created_by')}",
        f"  artifact     {record.get('artifact_uri')}",
        f"  files        {', '.join(record.get('files', []))}",
        f"  data         {lineage.get('data_uri', '-')}  ({lineage.get('data_sha256', '-')})",
        f"  pipeline     {lineage.get('pipeline', '-')}  run {lineage.get('run_id', '-')}  "
        f"code {lineage.get('code_version', '-')}",
    ]
    if gate := lineage.get("gate", {}).get("summary"):
        lines.append(f"  gate         {gate}")
    metrics = record.get("metrics") or {}
    lines.append("  metrics      " + "  ".join(f"{m} {format_number(metrics[m])}" for m in ordered_metrics(metrics)))
    lines += ["", "history:", _indent(_table(["at", "from", "to", "by", "reason"], history_rows(record)))]
    return "\n".join(lines)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def improved(metric: str, delta: float) -> bool:
    """Whether a change of `delta` in `metric` is for the better."""
    return delta < 0 if metric in LOWER_IS_BETTER else delta > 0


def compare_metrics(records: list[dict]) -> list[dict]:
    """One row per metric over `records`: values, deltas against the first record, and the index
    of the best value (None when fewer than two are numbers or all are equal)."""
    metric_sets = [r.get("metrics") or {} for r in records]
    rows = []
    for name in ordered_metrics(*metric_sets):
        values = [m.get(name) for m in metric_sets]
        numeric = [(i, v) for i, v in enumerate(values) if isinstance(v, int | float)]
        base = values[0] if isinstance(values[0], int | float) else None
        deltas = [None] + [v - base if base is not None and isinstance(v, int | float) else None for v in values[1:]]
        best = None
        if len(numeric) >= 2 and len({v for _, v in numeric}) > 1:
            best = (min if name in LOWER_IS_BETTER else max)(numeric, key=lambda iv: iv[1])[0]
        rows.append({"metric": name, "values": values, "deltas": deltas, "best": best})
    return rows


def changed_parameters(records: list[dict]) -> list[tuple[str, list]]:
    """(parameter, its value in each record) for every parameter that is not the same in all."""
    params = [(r.get("lineage") or {}).get("parameters") or {} for r in records]
    names = sorted({k for p in params for k in p})
    return [(k, [p.get(k) for p in params]) for k in names if len({json.dumps(p.get(k)) for p in params}) > 1]


def compare_table(a: dict, b: dict) -> str:
    """Metrics of two versions side by side; delta is b - a, and `better` says which way it went."""
    label_a, label_b = f"{a['group']}:{a['version']}", f"{b['group']}:{b['version']}"
    rows = []
    for row in compare_metrics([a, b]):
        (va, vb), delta = row["values"], row["deltas"][1]
        if delta is not None:
            verdict = "=" if delta == 0 else (label_b if improved(row["metric"], delta) else label_a)
            rows.append([row["metric"], format_number(va), format_number(vb), f"{delta:+.4f}", verdict])
        else:
            rows.append([row["metric"], format_number(va), format_number(vb), "-", "-"])
    rows.append(["status", a.get("approval_status", "?"), b.get("approval_status", "?"), "", ""])
    rows.append(["data", short_hash((a.get("lineage") or {}).get("data_sha256")),
                 short_hash((b.get("lineage") or {}).get("data_sha256")), "", ""])
    text = _table(["metric", label_a, label_b, "delta", "better"], rows)
    changed = changed_parameters([a, b])
    if changed:
        text += "\n\nparameters that differ:\n" + _indent(
            _table(["parameter", label_a, label_b],
                   [[k, *("-" if v is None else str(v) for v in values)] for k, values in changed]))
    return text


def _md_escape(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]]


def model_card(record: dict, feature_schema: dict | None = None, evaluation: dict | None = None,
               report_uri: str | None = None) -> str:
    """A Markdown model card: data, metrics, parameters, gate, lineage, status history."""
    lineage = record.get("lineage") or {}
    ref = f"{record['group']}:{record['version']}"
    out = [f"# Model card: {ref}", "",
           f"**Status:** {record.get('approval_status')}  ", f"**Created:** {record.get('created_at')} by "
           f"{record.get('created_by')}  ", f"**Format:** {record.get('model_format', 'xgboost')}  ",
           f"**Artifact:** `{record.get('artifact_uri')}`"]
    if record.get("description"):
        out += ["", record["description"]]

    out += ["", "## Data", "", f"- URI: `{lineage.get('data_uri', '-')}`",
            f"- Content hash: `{lineage.get('data_sha256', '-')}`"]
    if feature_schema:
        out += [f"- Target: `{feature_schema.get('target')}`, classes: "
                f"{', '.join(str(c) for c in feature_schema.get('classes', []))}", "",
                "Features, in the order a request sends them:", ""]
        rows = []
        for i, feature in enumerate(feature_schema.get("features", [])):
            categories = feature.get("categories")
            note = f"codes 0..{len(categories) - 1}: {', '.join(map(str, categories))}" if categories else ""
            rows.append([i, f"`{feature['name']}`", feature.get("type", "?"), feature.get("missing", "-"), note])
        out += _md_table(["#", "feature", "type", "missing (train)", "encoding"], rows)

    metrics = record.get("metrics") or {}
    out += ["", "## Metrics (test split)", ""]
    out += _md_table(["metric", "value"], [[m, format_number(metrics[m])] for m in ordered_metrics(metrics)])
    if evaluation:
        section = next(iter(evaluation.values()), {})
        confusion = section.get("confusion_matrix")
        if confusion:
            labels = list(confusion)
            out += ["", "Confusion matrix (rows: actual, columns: predicted):", ""]
            out += _md_table(["", *labels], [[actual, *(confusion[actual].get(p, 0) for p in labels)]
                                             for actual in labels])

    parameters = lineage.get("parameters") or {}
    out += ["", "## Parameters", ""]
    out += _md_table(["parameter", "value"], [[k, json.dumps(v)] for k, v in sorted(parameters.items())]) \
        if parameters else ["(none recorded)"]

    gate = lineage.get("gate") or {}
    out += ["", "## Gate decision", ""]
    if gate:
        out.append(f"{'Passed' if gate.get('passed') else 'Failed'}: {gate.get('summary', '')}")
        checks = gate.get("checks") or []
        if checks:
            out += [""] + _md_table(["rule", "value", "bound", "passed", "note"], [
                [c.get("rule"), format_number(c.get("value")), format_number(c.get("bound")),
                 "yes" if c.get("passed") else "no", c.get("note", "")] for c in checks])
    else:
        out.append("(no gate decision recorded)")

    out += ["", "## Lineage", "", f"- Pipeline: {lineage.get('pipeline', '-')}",
            f"- Run: {lineage.get('run_id', '-')}", f"- Code version: {lineage.get('code_version', '-')}",
            f"- Training output: `{lineage.get('model_artifact_uri', '-')}`"]
    if report_uri:
        out.append(f"- Report: `{report_uri}`")

    out += ["", "## Status history", ""]
    out += _md_table(["at", "from", "to", "by", "reason"], history_rows(record))
    return "\n".join(out) + "\n"
