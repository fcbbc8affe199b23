"""Every TrainJob Portway renders is one Kubeflow Trainer v2.3.0 accepts, on a runtime that exists."""

from __future__ import annotations

import pytest

from portway.config import DEFAULT_RESOURCES, GPU_TAINT, NODE_POOL_LABEL, ResourceSpec
from portway.errors import ParameterError
from portway.trainjob.render import NODE_CONTAINER, NODE_JOB, RUNTIME_KIND, RUNTIME_NAME, render_trainjob

from .validation import runtimes, trainjob_errors

CPU = ResourceSpec(cpu="2", memory="8Gi", cpu_limit="4", memory_limit="16Gi")
GPU = DEFAULT_RESOURCES["train"]


def _job(spec: ResourceSpec, nodes, **extra) -> dict:
    requests = {"cpu": spec.cpu, "memory": spec.memory, **({spec.gpu_type: str(spec.gpu)} if spec.gpu else {})}
    limits = {"cpu": spec.limits[0], "memory": spec.limits[1], **({spec.gpu_type: str(spec.gpu)} if spec.gpu else {})}
    placement = ({"node_selector": {NODE_POOL_LABEL: spec.node_pool}, "tolerations": [GPU_TAINT]}
                 if spec.gpu else {})
    settings = {
        "name": "ct-train-7x2", "env": [{"name": "PYTHONUNBUFFERED", "value": "1"}],
        "labels": {"portway.dev/team": "churn-ml", "portway.dev/step": "train"},
        "service_account": "portway-pipeline-runner", "active_deadline_seconds": 6 * 3600,
        "security_context": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
        "pod_security_context": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001},
        "scratch_dir": "/tmp",
    }
    return render_trainjob(
        num_nodes=nodes, image="ghcr.io/portway-ml/portway:0.1.0",
        args=["--train-data=s3://b/train", "--validation-data=s3://b/validation", "--profile=s3://b/profile",
              "--model=s3://b/model", "--params={}"],
        requests=requests, limits=limits, **settings | placement | extra,
    )


@pytest.mark.parametrize("spec", [CPU, GPU], ids=["cpu", "gpu"])
@pytest.mark.parametrize("nodes", [2, 3, 8, 64])
def test_rendered_trainjobs_validate_strictly_with_cel_rules(schemas_dir, spec, nodes):
    job = _job(spec, nodes)
    assert trainjob_errors(job, schemas_dir) == []
    assert job["spec"]["trainer"]["numNodes"] == nodes
    pod = job["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"][0]
    placement = pod["template"]["spec"]["template"]["spec"]
    if spec.gpu:
        assert job["spec"]["trainer"]["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == "1"
        assert placement["nodeSelector"] == {"portway.dev/node-pool": "gpu"}
        assert placement["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    else:
        assert "nodeSelector" not in placement and "tolerations" not in placement


def test_a_generated_name_validates_too(schemas_dir):
    job = _job(GPU, 4, name=None, generate_name="continuous-training-train-")
    assert trainjob_errors(job, schemas_dir) == []


def test_the_validator_catches_what_the_api_server_would_refuse(schemas_dir):
    """The check can fail: a misplaced field, a bad name (CEL), a bad quantity."""
    job = _job(CPU, 2)
    job["spec"]["trainer"]["replicas"] = 2
    job["metadata"]["name"] = "Train_Job"
    job["spec"]["trainer"]["resourcesPerNode"]["limits"]["cpu"] = "four"
    errors = "\n".join(trainjob_errors(job, schemas_dir))
    assert "replicas" in errors and "RFC 1035" in errors and "four" in errors


def test_the_runtime_named_exists_in_the_xgboost_distributed_manifest(schemas_dir):
    (runtime,) = runtimes(schemas_dir)
    job = _job(CPU, 2)
    ref = job["spec"]["runtimeRef"]
    assert (runtime["kind"], runtime["metadata"]["name"]) == (ref["kind"], ref["name"]) == (RUNTIME_KIND, RUNTIME_NAME)
    assert "xgboost" in runtime["spec"]["mlPolicy"]
    (replicated,) = runtime["spec"]["template"]["spec"]["replicatedJobs"]
    assert replicated["name"] == NODE_JOB
    assert [c["name"] for c in replicated["template"]["spec"]["template"]["spec"]["containers"]] == [NODE_CONTAINER]


def test_bad_requests_are_refused_before_rendering():
    with pytest.raises(ParameterError, match="DMLC_TASK_ID are set by the xgboost-distributed runtime"):
        _job(CPU, 2, env=[{"name": "DMLC_TASK_ID", "value": "0"}])
    with pytest.raises(ParameterError, match="must be a DNS label of at most 40"):
        _job(CPU, 2, name="a-very-long-trainjob-name-that-will-not-fit-in-a-pod-hostname")
    with pytest.raises(ParameterError, match="numNodes must be at least 1, got 0"):
        _job(CPU, 0)
