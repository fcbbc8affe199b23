"""The InferenceService of a registry version, rendered from charts/kserve-inference.

The chart is the single source of truth: `portway deploy`, the `deploy` pipeline component
and a hand-run `helm install` all produce the same object, because Portway renders that
chart (with Helm's own library, no binary) from values built out of the registry record.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

from portway.errors import ParameterError

CHART_NAME = "kserve-inference"
CHARTS_DIR_ENV = "PORTWAY_CHARTS_DIR"
# src/portway/deploy/manifest.py -> the repository root, where charts/ lives in a checkout.
# The container image copies charts/ and sets PORTWAY_CHARTS_DIR to it.
_CHECKOUT_CHARTS = Path(__file__).resolve().parents[3] / "charts"
# What KServe's storage initializer can fetch; a local path exists only on this machine.
REMOTE_STORAGE_SCHEMES = ("s3://", "gs://", "pvc://", "http://", "https://", "oci://")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def chart_dir() -> Path:
    configured = os.environ.get(CHARTS_DIR_ENV)
    base = Path(configured).expanduser() if configured else _CHECKOUT_CHARTS
    chart = base / CHART_NAME
    if not (chart / "Chart.yaml").is_file():
        raise ParameterError(
            f"The {CHART_NAME} chart is not at {chart}; set {CHARTS_DIR_ENV} to the directory that holds "
            f"charts/{CHART_NAME} (the container image sets it)."
        )
    return chart


def deep_merge(base: dict, override: dict) -> dict:
    """`override` on top of `base`, recursively for mappings (Helm's own values precedence)."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def values_for(record: dict, overrides: dict | None = None) -> dict:
    """Chart values for a registry version: its group, version and artifact URI, then overrides."""
    ref = f"{record['group']}:{record['version']}"
    values = deep_merge({
        "model": {"group": record["group"], "version": str(record["version"]),
                  "storageUri": record["artifact_uri"], "format": record.get("model_format", "xgboost")},
        # Which registry version is running, readable with kubectl; lineage is in the registry.
        "annotations": {"portway.dev/model": ref, "portway.dev/approval-status": record.get("approval_status", "")},
    }, overrides or {})
    storage_uri = str(values["model"].get("storageUri", ""))
    if not storage_uri.startswith(REMOTE_STORAGE_SCHEMES):
        raise ParameterError(
            f"{ref} lives at {storage_uri}, a path on this machine; KServe's storage initializer fetches "
            f"models from {', '.join(s.rstrip(':/') for s in REMOTE_STORAGE_SCHEMES)} URIs. Register into an "
            "s3:// registry (portway run --registry s3://bucket/prefix), or set model.storageUri to where a copy is."
        )
    return values


def render(values: dict, name: str, namespace: str) -> list[dict]:
    """The chart's objects for `values` (schema and the chart's own rules checked by Helm)."""
    import helm_python

    from portway.devtools.charts import render_chart, rendered_objects

    try:
        return rendered_objects(render_chart(chart_dir(), values, release=name, namespace=namespace))
    except (helm_python.HelmValuesError, helm_python.HelmRenderError) as exc:
        raise ParameterError(f"The {CHART_NAME} chart refused these values: {exc}") from None


def check_namespace(namespace: str) -> str:
    if not isinstance(namespace, str) or not _DNS_LABEL.match(namespace):
        raise ParameterError(f"Namespace {namespace!r} is not a Kubernetes namespace name: lowercase letters, digits "
                             "and '-', starting and ending with a letter or digit, at most 63 characters.")
    return namespace


def manifests_for(record: dict, namespace: str, overrides: dict | None = None) -> dict:
    """{"inference_service": {...}, "service_account": {...} or None} for a registry version."""
    check_namespace(namespace)
    values = values_for(record, overrides)
    name = values.get("nameOverride") or values["model"]["group"]
    objects = render(values, name=str(name), namespace=namespace)
    services = [o for o in objects if o.get("kind") == "InferenceService"]
    accounts = [o for o in objects if o.get("kind") == "ServiceAccount"]
    if len(services) != 1 or len(accounts) > 1:
        kinds = ", ".join(o.get("kind", "?") for o in objects)
        raise ParameterError(f"The {CHART_NAME} chart rendered [{kinds}]; expected one InferenceService and "
                             "at most one ServiceAccount.")
    return {"inference_service": services[0], "service_account": accounts[0] if accounts else None}
