"""The strict-schema helper itself: it accepts a valid object and names every bad field."""

from __future__ import annotations

import pytest
from schema_tools import crd_validator, schema_errors, strict_schema, validate_strict


def minimal_workflow() -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "x-"},
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "container": {"image": "busybox", "resources": {"requests": {"cpu": "1"}}}}]}}


def test_strict_schema_maps_openapi_extensions():
    schema = strict_schema({"type": "object", "properties": {
        "port": {"x-kubernetes-int-or-string": True},
        "note": {"type": "string", "nullable": True},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {}}},
    }})
    assert schema["additionalProperties"] is False
    assert schema["properties"]["port"]["type"] == ["integer", "string"]
    assert schema["properties"]["note"]["type"] == ["string", "null"]
    assert "additionalProperties" not in schema["properties"]["free"]


def test_crd_validator_accepts_valid_and_names_unknown_and_mistyped_fields(schemas_dir):
    validator = crd_validator(schemas_dir / "argo-workflows/v4.1.2/crds-full/argoproj.io_workflows.yaml")
    workflow = minimal_workflow()
    validate_strict(workflow, validator)
    template = workflow["spec"]["templates"][0]
    template["retryStrategy"] = {"limit": "2", "backof": {"duration": "1s"}}
    template["container"]["resources"]["limits"] = {"nvidia.com/gpu": 1}  # int-or-string: allowed
    template["activeDeadlineSeconds"] = [1]
    errors = schema_errors(workflow, validator)
    assert any("'backof' was unexpected" in e for e in errors), errors
    assert any(e.startswith("spec/templates/0/activeDeadlineSeconds") for e in errors), errors
    assert not any("nvidia.com/gpu" in e for e in errors), errors
    with pytest.raises(AssertionError, match=r"\d+ schema violation"):
        validate_strict(workflow, validator)


def test_crd_validator_refuses_an_unknown_version(schemas_dir):
    with pytest.raises(ValueError, match="no version 'v9'"):
        crd_validator(schemas_dir / "argo-workflows/v4.1.2/crds-full/argoproj.io_workflows.yaml", version="v9")
