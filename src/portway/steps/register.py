"""register: turn an evaluated model into a registry version (SageMaker's RegisterModel).

Two checks come first, both against the model group's existing versions:
- the feature schema (names and types) must be the group's (portway.registry.schema), unless
  `new_schema`: another dataset's model never lands in a group by accident;
- a version with the same data hash, parameters, code version, feature schema and metrics
  already exists: the model would be an exact duplicate, so nothing is registered (the result
  says which version it duplicates), unless `allow_duplicate`.
"""

from __future__ import annotations

from pathlib import Path

from portway.fileio import read_json
from portway.registry import open_registry
from portway.steps.evaluate import metrics_from_report

# What makes two registrations the same model (see find_duplicate).
IDENTITY_LINEAGE_KEYS = ("data_sha256", "parameters", "code_version")


def find_duplicate(registry, group: str, lineage: dict, metrics: dict, feature_schema: dict | None) -> dict | None:
    """The newest version of `group` with the same data, parameters, code, schema and metrics."""
    from portway.registry.schema import FEATURE_SCHEMA_FILE, schema_differences

    if not lineage.get("data_sha256"):
        return None  # without a content hash two runs cannot be told apart: never call it a duplicate
    records, _ = registry.records(group)
    for record in reversed(records):
        theirs = record.get("lineage") or {}
        if any(theirs.get(k) != lineage.get(k) for k in IDENTITY_LINEAGE_KEYS) or record.get("metrics") != metrics:
            continue
        if schema_differences(registry.read_artifact_json(record, FEATURE_SCHEMA_FILE), feature_schema):
            continue
        return record
    return None


def register_model(
    registry_root: str,
    model_group: str,
    model_dir: str,
    evaluation_path: str,
    approval_status: str,
    lineage: dict,
    extra_files: dict | None = None,
    new_schema: bool = False,
    allow_duplicate: bool = False,
) -> dict:
    """Create the next version of `model_group`; returns its record plus `"registered": True`,
    or `{"registered": False, "duplicate_of": ..., "reason": ...}` for an exact duplicate."""
    from portway.registry.schema import FEATURE_SCHEMA_FILE, check_group_schema

    report = read_json(evaluation_path)
    metrics = metrics_from_report(report)
    registry = open_registry(registry_root)
    schema_path = Path(model_dir) / FEATURE_SCHEMA_FILE
    feature_schema = read_json(schema_path) if schema_path.is_file() else None
    if feature_schema is not None and not new_schema:
        check_group_schema(registry, model_group, feature_schema)
    if not allow_duplicate:
        duplicate = find_duplicate(registry, model_group, lineage, metrics, feature_schema)
        if duplicate is not None:
            reference = f"{model_group}:{duplicate['version']}"
            return {"registered": False, "duplicate_of": reference, "group": model_group,
                    "reason": f"same data, parameters and code as {reference} ({duplicate['approval_status']}); "
                              "not registered again (--allow-duplicate registers it anyway)"}
    record = registry.register(
        group=model_group,
        model_dir=model_dir,
        metrics=metrics,
        lineage=lineage,
        approval_status=approval_status,
        evaluation_path=evaluation_path,
        extra_files=extra_files,
    )
    return {"registered": True, **record}
