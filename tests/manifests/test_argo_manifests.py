"""manifests/base/argo holds what the Argo target compiles today (a golden-file check), and
the pipeline it runs uses the runner service account of the base manifests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ARGO_DIR = REPO / "manifests" / "base" / "argo"


def generator():
    spec = importlib.util.spec_from_file_location("generate_argo_manifests", REPO / "scripts" / "generate_argo_manifests.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def without_cache_keys(node):
    """The document with each step's memoize key blanked: the key hashes the component's code,
    so any edit to a component changes it, while what the manifest deploys stays the same."""
    if isinstance(node, dict):
        return {k: ("<key>" if k == "key" and "cache" in node else without_cache_keys(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [without_cache_keys(v) for v in node]
    return node


def test_argo_manifests_are_current():
    gen = generator()
    for name, document in gen.documents().items():
        committed = yaml.safe_load((ARGO_DIR / name).read_text())
        assert without_cache_keys(committed) == without_cache_keys(document), (
            f"{ARGO_DIR / name} is stale; run python scripts/generate_argo_manifests.py")


def test_pipeline_runs_as_the_runner_and_schedule_has_its_data():
    template = yaml.safe_load((ARGO_DIR / "workflowtemplate.yaml").read_text())
    cron = yaml.safe_load((ARGO_DIR / "cronworkflow.yaml").read_text())
    runner = next(d for d in yaml.safe_load_all((REPO / "manifests" / "base" / "pipeline-runner.yaml").read_text())
                  if d["kind"] == "ServiceAccount")
    assert template["spec"]["serviceAccountName"] == runner["metadata"]["name"]
    assert cron["spec"]["workflowSpec"]["serviceAccountName"] == runner["metadata"]["name"]
    # A scheduled run has nobody to pass data_uri: the CronWorkflow must carry a value.
    parameters = {p["name"]: p for p in cron["spec"]["workflowSpec"]["arguments"]["parameters"]}
    assert parameters["data_uri"]["value"].startswith("s3://")
    kustomization = yaml.safe_load((ARGO_DIR / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == ["cronworkflow.yaml", "workflowtemplate.yaml"]
