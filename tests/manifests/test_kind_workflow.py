"""What `make kind-run` submits: the pipeline compiled as an Argo Workflow sized for kind (no
GPU request, selector or toleration, so every step can schedule on a kind node), reading the
dataset and writing the registry in MinIO with the keys of the kind Secret; valid against
Argo's Workflow CRD and within the security baseline."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import yaml
from k8s_validation import assert_valid
from security_baseline import assert_baseline

from portway.config import GPU_RESOURCE, NODE_POOL_LABEL

REPO = Path(__file__).resolve().parents[2]


def kind_workflow_module():
    spec = importlib.util.spec_from_file_location("kind_workflow", REPO / "scripts" / "kind_workflow.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_kind_run_workflow_is_cpu_sized_valid_and_secure(schemas_dir):
    kind_workflow = kind_workflow_module()
    text = kind_workflow.compile_for_kind("ghcr.io/portway-ml/portway:0.1.0",
                                          "http://minio.portway.svc.cluster.local:9000",
                                          "portway-s3-credentials", "portway")
    workflow = yaml.safe_load(text)
    assert workflow["kind"] == "Workflow" and workflow["metadata"]["namespace"] == "portway"
    assert_valid([workflow], schemas_dir)
    assert_baseline([workflow])

    steps = [t for t in workflow["spec"]["templates"] if "container" in t or "script" in t]
    assert steps
    for step in steps:
        container = step.get("container") or step["script"]
        assert GPU_RESOURCE not in container["resources"].get("limits", {}), step["name"]
        assert NODE_POOL_LABEL not in step.get("nodeSelector", {}), step["name"]
        assert not step.get("tolerations"), step["name"]
        secret_refs = {v["valueFrom"]["secretKeyRef"]["name"] for v in container.get("env", []) if "valueFrom" in v}
        assert secret_refs <= {"portway-s3-credentials"}, secret_refs

    parameters = {p["name"]: p.get("value") for p in workflow["spec"]["arguments"]["parameters"]}
    assert parameters["data_uri"] == kind_workflow.DATA_URI
    assert parameters["registry_root"] == kind_workflow.REGISTRY_ROOT
    assert "minio.portway.svc.cluster.local:9000" in text
