"""What each page shows, as plain data for the templates, built with the registry's own code
(ModelRegistry reads, portway.registry.views for metrics, history, comparison and the card).

A corrupt registry entry becomes a row that says so; it never takes the page down with it.
"""

from __future__ import annotations

from portway.errors import PortwayError, RegistryError
from portway.registry import ALLOWED_TRANSITIONS, APPROVAL_STATUSES, APPROVED, PENDING
from portway.registry.views import (
    changed_parameters,
    compare_metrics,
    format_number,
    gate_metric,
    history_rows,
    model_card,
    ordered_metrics,
    short_hash,
    short_time,
)
from portway.ui.chart import metric_chart

# More columns than this do not fit a page; the CLI compares two.
MAX_COMPARED = 8


def read_group(registry, group: str) -> tuple[list[dict], list[dict]]:
    """(records oldest first, [{"version", "problem"}] for every corrupt entry)."""
    records, corrupt = [], []
    for version in registry.versions(group):
        try:
            records.append(registry.get(group, version))
        except RegistryError as exc:
            corrupt.append({"version": version, "problem": str(exc)})
    return records, corrupt


def last_decision(record: dict) -> dict | None:
    """The newest history entry a person made (a registration has no `from`)."""
    decisions = [h for h in record.get("history") or [] if h.get("from")]
    return decisions[-1] if decisions else None


def _champion(records: list[dict]) -> dict | None:
    approved = [r for r in records if r.get("approval_status") == APPROVED]
    return approved[-1] if approved else None


def groups_page(registry) -> dict:
    groups = []
    for name in registry.groups():
        try:
            records, corrupt = read_group(registry, name)
        except PortwayError as exc:
            groups.append({"name": name, "problem": str(exc)})
            continue
        champion = _champion(records)
        groups.append({
            "name": name, "count": len(records) + len(corrupt),
            "newest": records[-1]["version"] if records else None,
            "champion": champion["version"] if champion else None,
            "pending": sum(r.get("approval_status") == PENDING for r in records),
            "corrupt": len(corrupt),
        })
    return {"groups": groups, "registry": registry.root_uri}


def version_row(record: dict) -> dict:
    metric = gate_metric(record)
    decision = last_decision(record)
    return {
        "version": record["version"], "status": record.get("approval_status", "?"), "metric": metric,
        "value": format_number((record.get("metrics") or {}).get(metric)),
        "created": short_time(record.get("created_at")),
        "data_hash": short_hash((record.get("lineage") or {}).get("data_sha256")),
        "decided_by": f"{decision.get('by', '?')} at {short_time(decision.get('at'))}" if decision else "-",
    }


def group_page(registry, group: str, status: str | None) -> dict:
    records, corrupt = read_group(registry, group)
    if not records and not corrupt:
        raise RegistryError(f"Model group {group!r} has no versions in {registry.root_uri}.")
    champion = _champion(records)
    shown = [r for r in records if not status or r.get("approval_status") == status]
    metric = gate_metric(records[-1]) if records else "auc"
    return {
        "group": group, "status": status or "", "statuses": APPROVAL_STATUSES,
        "rows": [version_row(r) for r in reversed(shown)],
        "corrupt": [] if status else corrupt,
        "champion": champion["version"] if champion else None,
        "chart": metric_chart(records, metric, champion["version"] if champion else None),
    }


def _artifact(registry, record: dict, name: str) -> tuple[dict | None, str | None]:
    try:
        return registry.read_artifact_json(record, name), None
    except PortwayError as exc:
        return None, str(exc)


def version_page(registry, group: str, version: int) -> dict:
    record = registry.get(group, version)
    lineage = record.get("lineage") or {}
    metrics = record.get("metrics") or {}
    has_report = "report.html" in record.get("files", [])
    report_uri = registry.store.uri(registry.artifact_key(record, "report.html")) if has_report else None
    schema, schema_problem = _artifact(registry, record, "feature_schema.json")
    evaluation, evaluation_problem = _artifact(registry, record, "evaluation.json")
    gate = lineage.get("gate") or {}
    current = record.get("approval_status")
    return {
        "group": group, "version": version, "record": record, "status": current,
        "metrics": [(m, format_number(metrics[m])) for m in ordered_metrics(metrics)],
        "lineage": [
            ("data", lineage.get("data_uri", "-")), ("data hash", lineage.get("data_sha256", "-")),
            ("pipeline", lineage.get("pipeline", "-")), ("run", lineage.get("run_id", "-")),
            ("code version", lineage.get("code_version", "-")),
            ("training output", lineage.get("model_artifact_uri", "-")),
            ("artifact", record.get("artifact_uri", "-")),
            ("created", f"{record.get('created_at', '-')} by {record.get('created_by', '-')}"),
        ],
        "parameters": sorted((lineage.get("parameters") or {}).items()),
        "gate": {"passed": gate.get("passed"), "summary": gate.get("summary", ""),
                 "checks": [{"rule": c.get("rule"), "value": format_number(c.get("value")),
                             "bound": format_number(c.get("bound")), "passed": c.get("passed"),
                             "note": c.get("note", "")} for c in gate.get("checks") or []]} if gate else None,
        "history": history_rows(record),
        "card": model_card(record, schema, evaluation, report_uri),
        "artifact_problems": [p for p in (schema_problem, evaluation_problem) if p],
        "has_report": has_report,
        "actions": [{"verb": verb, "status": to} for (frm, to), verb in ALLOWED_TRANSITIONS.items() if frm == current],
    }


def compare_page(registry, references: list[str]) -> dict:
    from portway.errors import ParameterError

    if not 2 <= len(references) <= MAX_COMPARED:
        raise ParameterError(f"Compare needs 2 to {MAX_COMPARED} versions (GROUP:VERSION); got {len(references)}.")
    # Oldest first, whatever order the boxes were ticked in: deltas read as "since then".
    records = sorted((registry.resolve(reference) for reference in references), key=lambda r: (r["group"], r["version"]))
    labels = [f"{r['group']}:{r['version']}" for r in records]
    metric = gate_metric(records[0])
    rows = compare_metrics(records)
    gate_row = next((row for row in rows if row["metric"] == metric), None)
    return {
        "labels": labels, "records": records, "metric": metric,
        "rows": [{**row, "values": [format_number(v) for v in row["values"]],
                  "deltas": ["" if d is None else f"{d:+.4f}" for d in row["deltas"]]} for row in rows],
        "statuses": [r.get("approval_status", "?") for r in records],
        "data_hashes": [short_hash((r.get("lineage") or {}).get("data_sha256")) for r in records],
        "same_data": len({(r.get("lineage") or {}).get("data_sha256") for r in records}) == 1,
        "parameters": [(name, ["-" if v is None else str(v) for v in values])
                       for name, values in changed_parameters(records)],
        "better": labels[gate_row["best"]] if gate_row and gate_row["best"] is not None else None,
    }
