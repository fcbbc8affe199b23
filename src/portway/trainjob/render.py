"""The Kubeflow Trainer v2.3.0 `TrainJob` of a distributed train step.

    apiVersion: trainer.kubeflow.org/v1alpha1
    kind: TrainJob
    spec:
      runtimeRef: {name: xgboost-distributed, kind: ClusterTrainingRuntime}
      trainer: {image, command, args, env, numNodes, resourcesPerNode}
      runtimePatches: [pod labels, service account, GPU node selector + toleration, security]
      activeDeadlineSeconds: a node that never comes fails the job instead of hanging it

Field names and rules are those of the v2.3.0 CRD (kubeflow/trainer
manifests/base/crds/trainer.kubeflow.org_trainjobs.yaml, copied in ../shared/schemas); the
runtime is the built-in ClusterTrainingRuntime of manifests/base/runtimes/xgboost_distributed.yaml,
whose trainer container and replicated job are both named `node`. Its XGBoost plugin injects
the DMLC_* variables (one worker per node on CPU, one per GPU), so the env here must not set them
(the plugin's admission check forbids it: pkg/runtime/framework/plugins/xgboost/xgboost.go).
"""

from __future__ import annotations

import re

from portway.errors import ParameterError

API_VERSION = "trainer.kubeflow.org/v1alpha1"
KIND = "TrainJob"
PLURAL = "trainjobs"
GROUP = "trainer.kubeflow.org"
VERSION = "v1alpha1"
RUNTIME_NAME = "xgboost-distributed"
RUNTIME_KIND = "ClusterTrainingRuntime"
# The runtime's replicated job and its trainer container (xgboost_distributed.yaml).
NODE_JOB = "node"
NODE_CONTAINER = "node"
PATCH_MANAGER = "portway.dev/trainjob"
ENTRY_POINT = ["python", "-m", "portway.steps.train_distributed"]
# Pods are named <trainjob>-node-<job index>-<pod index> (the tracker is <name>-node-0-0.<name>,
# xgboost.go) and a pod's hostname is a DNS label (63 characters): keep room for 5-digit indexes.
MAX_NAME = 40
_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")  # the CRD's CEL rule on metadata.name (RFC 1035)
RESERVED_ENV = ("DMLC_TRACKER_URI", "DMLC_TRACKER_PORT", "DMLC_TASK_ID", "DMLC_NUM_WORKER")


def check_name(name: str, generated: bool = False) -> None:
    limit = MAX_NAME - (5 if generated else 0)  # the API server appends 5 characters to a generateName
    candidate = name.rstrip("-") if generated else name
    if len(name) > limit or not _NAME.match(candidate):
        raise ParameterError(f"TrainJob name {name!r} must be a DNS label of at most {limit} characters "
                             "(lower-case letters, digits, '-', starting with a letter).")


def render_trainjob(
    *,
    name: str | None = None,
    generate_name: str | None = None,
    namespace: str | None = None,
    num_nodes: int | str,
    image: str,
    args: list[str],
    requests: dict,
    limits: dict,
    node_selector: dict | None = None,
    tolerations: list | None = None,
    env: list | None = None,
    labels: dict | None = None,
    annotations: dict | None = None,
    service_account: str | None = None,
    security_context: dict | None = None,
    pod_security_context: dict | None = None,
    active_deadline_seconds: int | None = None,
    scratch_dir: str | None = None,
) -> dict:
    """The TrainJob object. `num_nodes` may be an Argo placeholder string, substituted before creation."""
    if (name is None) == (generate_name is None):
        raise ParameterError("a TrainJob needs exactly one of name and generate_name.")
    check_name(name or generate_name, generated=name is None)
    if isinstance(num_nodes, int) and num_nodes < 1:
        raise ParameterError(f"numNodes must be at least 1, got {num_nodes}.")
    reserved = sorted({e["name"] for e in env or []} & set(RESERVED_ENV))
    if reserved:
        raise ParameterError(f"{', '.join(reserved)} are set by the {RUNTIME_NAME} runtime; do not set them.")
    metadata = {"name": name} if name else {"generateName": generate_name}
    if namespace:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    pod_spec: dict = {}
    if service_account:
        pod_spec["serviceAccountName"] = service_account
    if node_selector:
        pod_spec["nodeSelector"] = dict(node_selector)
    if tolerations:
        pod_spec["tolerations"] = [dict(t) for t in tolerations]
    if pod_security_context:
        pod_spec["securityContext"] = dict(pod_security_context)
    container: dict = {}
    if security_context:
        container["securityContext"] = dict(security_context)
    if scratch_dir:  # a writable directory under a read-only root filesystem
        pod_spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
        container["volumeMounts"] = [{"name": "scratch", "mountPath": scratch_dir}]
    if container:
        pod_spec["containers"] = [{"name": NODE_CONTAINER, **container}]
    pod_template: dict = {"spec": pod_spec}
    if labels:
        pod_template["metadata"] = {"labels": dict(labels)}  # cost attribution on the pods themselves
    trainer = {
        "image": image,
        "command": list(ENTRY_POINT),
        "args": list(args),
        "numNodes": num_nodes,
        "resourcesPerNode": {"requests": dict(requests), "limits": dict(limits)},
    }
    if env:
        trainer["env"] = [dict(e) for e in env]
    spec: dict = {
        "runtimeRef": {"name": RUNTIME_NAME, "apiGroup": GROUP, "kind": RUNTIME_KIND},
        "trainer": trainer,
        "runtimePatches": [{
            "manager": PATCH_MANAGER,
            "trainingRuntimeSpec": {"template": {
                **({"metadata": {"labels": dict(labels)}} if labels else {}),
                "spec": {"replicatedJobs": [{
                    "name": NODE_JOB,
                    "template": {"spec": {"template": pod_template}},
                }]},
            }},
        }],
    }
    if active_deadline_seconds:
        spec["activeDeadlineSeconds"] = int(active_deadline_seconds)
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}
