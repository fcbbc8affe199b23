"""register: turn an evaluated model into a registry version (SageMaker's RegisterModel)."""

from __future__ import annotations

from portway.fileio import read_json
from portway.registry import open_registry
from portway.steps.evaluate import metrics_from_report


def register_model(
    registry_root: str,
    model_group: str,
    model_dir: str,
    evaluation_path: str,
    approval_status: str,
    lineage: dict,
    extra_files: dict | None = None,
) -> dict:
    """Create the next version of `model_group`; returns its record plus `"registered": True`."""
    report = read_json(evaluation_path)
    registry = open_registry(registry_root)
    record = registry.register(
        group=model_group,
        model_dir=model_dir,
        metrics=metrics_from_report(report),
        lineage=lineage,
        approval_status=approval_status,
        evaluation_path=evaluation_path,
        extra_files=extra_files,
    )
    return {"registered": True, **record}
