"""Distributed train for real on the kind cluster of `make kind-up` (Kubeflow Trainer v2.3.0):
the compiled workflow with workers=2 creates a TrainJob through Argo's resource template, the
TrainJob completes and the run succeeds, and deleting the workflow deletes the TrainJob (owner
reference). Needs `make kind-run` once (image, dataset)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(3600)]

NAMESPACE = "portway"
SECRET = "portway-s3-credentials"
MINIO = f"http://minio.{NAMESPACE}.svc.cluster.local:9000"
DATA_URI = "s3://portway-artifacts/datasets/churn.csv"
REGISTRY_ROOT = "s3://portway-models/registry"


def kubectl(*args: str, check: bool = True, timeout: int = 120) -> str:
    result = subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


@pytest.fixture(scope="module")
def trainer_installed():
    context = kubectl("config", "current-context", check=False).strip()
    if not context.startswith("kind-"):
        pytest.skip(f"the current context {context!r} is not a kind cluster; run `make kind-up`")
    if not kubectl("get", "clustertrainingruntime", "xgboost-distributed", "--ignore-not-found", "-o", "name",
                   check=False):
        pytest.skip("Kubeflow Trainer's xgboost-distributed runtime is not installed; run `make kind-up`")


def _cpu_workflow(tmp_path: Path) -> Path:
    from portway.pipelines.continuous_training import build_pipeline

    from portway.compile.argo import ArgoOptions, convert_ir
    from portway.compile.kfp_target import compile_kfp
    from portway.config import DEFAULT_IMAGE, DEFAULT_RESOURCES
    from portway.trainjob.argo import apply

    cpu = {step: dataclasses.replace(spec, gpu=0, node_pool=None, cpu="1", cpu_limit="2", memory="1Gi",
                                     memory_limit="2Gi") if spec.gpu or spec.node_pool else spec
           for step, spec in DEFAULT_RESOURCES.items()}
    document, _ = convert_ir(compile_kfp(build_pipeline(resources=cpu)), ArgoOptions(
        image=DEFAULT_IMAGE, namespace=NAMESPACE, s3_endpoint=MINIO, s3_secret=SECRET,
        parameters={"data_uri": DATA_URI, "registry_root": REGISTRY_ROOT, "gpus": "0", "workers": "2"}))
    path = tmp_path / "workflow.yaml"
    path.write_text(yaml.safe_dump(apply(document), sort_keys=False))
    return path


def test_workers_2_run_creates_a_trainjob_owned_by_the_workflow(trainer_installed, tmp_path):
    name = kubectl("-n", NAMESPACE, "create", "-f", str(_cpu_workflow(tmp_path)), "-o", "jsonpath={.metadata.name}")
    try:
        deadline = time.monotonic() + 2400
        phase = ""
        while time.monotonic() < deadline:
            phase = kubectl("-n", NAMESPACE, "get", "workflow", name, "-o", "jsonpath={.status.phase}", check=False)
            if phase in ("Succeeded", "Failed", "Error"):
                break
            time.sleep(10)
        message = kubectl("-n", NAMESPACE, "get", "workflow", name, "-o", "jsonpath={.status.message}", check=False)
        assert phase == "Succeeded", f"workflow {name}: {phase} {message}"
        jobs = json.loads(kubectl("-n", NAMESPACE, "get", "trainjobs", "-l", f"portway.dev/run={name}", "-o", "json"))
        (job,) = jobs["items"]
        assert job["spec"]["trainer"]["numNodes"] == 2
        assert any(c["type"] == "Complete" and c["status"] == "True" for c in job["status"]["conditions"])
        (owner,) = job["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"]) == ("Workflow", name)
    finally:
        kubectl("-n", NAMESPACE, "delete", "workflow", name, "--ignore-not-found", "--wait=true", check=False,
                timeout=300)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # garbage collection follows the owner reference
        if not kubectl("-n", NAMESPACE, "get", "trainjobs", "-l", f"portway.dev/run={name}", "-o", "name",
                       check=False).strip():
            break
        time.sleep(5)
    else:
        raise AssertionError(f"the TrainJob of {name} outlived its workflow")
