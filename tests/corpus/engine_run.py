"""Run a compiled corpus workflow on the local Argo engine (tests/argo_engine) and read back, per
KFP task, what it did in the shape of index.py.

How a step's results are read (the Argo target's design, README "Argo target"): each KFP task is
a pod node (a retried pod sits under a Retry node) whose template carries the KFP task's name in
the label `portway.dev/step` (the Argo task name may differ: nested pipelines are flattened and
names made unique); its KFP executor's output file is the output parameter `executor-output`
(parameterValues and each artifact's metadata); output parameters a container component writes
to files are Argo output parameters named after the KFP output; artifact bytes are in the S3
artifact repository under the key the node's output artifact records.
"""

from __future__ import annotations

import json
import re
import tarfile
import tempfile
from pathlib import Path

from corpus.envs import image_environment_parts
from corpus.index import FAILED, SUCCEEDED
from corpus.record import artifact_files

BUCKET = "portway-artifacts"
S3_SECRET = "corpus-s3"
SUFFIX = re.compile(r"\(\d+(:.*)?\)$", re.S)  # "task(0:item)" loop iteration, "task(1)" retry attempt
STEP_LABEL = "portway.dev/step"
KFP_TYPES = {"NUMBER_INTEGER": int, "NUMBER_DOUBLE": float}


def images(ref: str):
    from argo_engine import ImageEnvironment

    path_dirs, env = image_environment_parts(ref)
    return ImageEnvironment(path_dirs, env, entrypoint=None)


def make_engine(workdir: Path, s3_endpoint: str, access_key: str, secret_key: str):
    from argo_engine import ArgoEngine

    repository = {"s3": {"bucket": BUCKET, "endpoint": s3_endpoint.split("://", 1)[1], "insecure": True,
                         "keyFormat": "pipelines/{{workflow.name}}/{{pod.name}}",
                         "accessKeySecret": {"name": S3_SECRET, "key": "accesskey"},
                         "secretKeySecret": {"name": S3_SECRET, "key": "secretkey"}}}
    secrets = {S3_SECRET: {"accesskey": access_key, "secretkey": secret_key},
               # what kubernetes_secrets_configmaps reads (index.py says so)
               "db-credentials": {"password": "s3cr3t", "username": "corpus-user"}}
    return ArgoEngine(workdir, images, artifact_repository=repository, secrets=secrets,
                      configmaps={"app-config": {"mode": "batch"}},
                      resource_controllers={"v1/PersistentVolumeClaim": pvc_controller}, parallelism=2)


def pvc_controller(action: str, manifest: dict) -> dict:
    """A PersistentVolumeClaim is Bound as soon as it is created (a default StorageClass would bind it)."""
    return {**manifest, "status": {"phase": "Bound"} if action != "delete" else {}}


def ir_outputs(ir: dict) -> dict[str, dict]:
    """KFP task name -> its component's outputDefinitions, for every container task (nested DAGs
    included; importers left out: the target may resolve them without a pod, and the task that
    reads the imported artifact shows what it received)."""
    spec = ir["pipeline_spec"]
    components = spec.get("components") or {}
    executors = ((spec.get("deploymentSpec") or {}).get("executors")) or {}
    out = {}
    for dag in [spec["root"], *components.values()]:
        for name, task in ((dag.get("dag") or {}).get("tasks") or {}).items():
            component = components.get(task["componentRef"]["name"]) or {}
            if "container" in executors.get(component.get("executorLabel"), {}):
                out.setdefault(name, component.get("outputDefinitions") or {})
    return out


def render_argument(value) -> str:
    """A pipeline argument as the Workflow parameter string (JSON for everything but strings)."""
    return value if isinstance(value, str) else json.dumps(value)


def _typed(text: str, kfp_type: str):
    if kfp_type in KFP_TYPES:
        return KFP_TYPES[kfp_type](text)
    if kfp_type == "BOOLEAN":
        return json.loads(text.lower())
    if kfp_type in ("LIST", "STRUCT"):
        return json.loads(text)
    return text


def _download(s3, key: str) -> dict:
    """An artifact's files from the repository: an object (a tarball is unpacked) or a key prefix."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "artifact"
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=key).get("Contents", [])
        exact = [o for o in listed if o["Key"] == key]
        if exact:
            target.write_bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
            if key.endswith(".tgz"):
                unpacked = Path(tmp) / "unpacked"
                with tarfile.open(target) as tar:
                    tar.extractall(unpacked, filter="data")
                entries = list(unpacked.iterdir())
                target = entries[0] if len(entries) == 1 else unpacked
        else:
            for obj in listed:
                if obj["Key"].startswith(key.rstrip("/") + "/"):
                    dest = target / obj["Key"][len(key.rstrip("/")) + 1:]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read())
        return artifact_files(target)


def task_executions(result, document: dict, ir: dict, s3) -> dict:
    """{kfp task name: [execution]} from the engine's nodes (skipped and helper nodes left out)."""
    outputs_of = ir_outputs(ir)
    step_of = {t["name"]: ((t.get("metadata") or {}).get("labels") or {}).get(STEP_LABEL)
               for t in document["spec"]["templates"]}
    by_id = {n.id: n for n in result.nodes}
    retry_children = {child for n in result.nodes if n.type == "Retry" for child in n.children}
    tasks: dict[str, list] = {}
    for node in result.nodes:
        if node.type not in ("Pod", "Retry") or node.id in retry_children:
            continue
        name = _kfp_task_name(node, step_of.get(node.template_name))
        if name not in outputs_of or node.phase in ("Skipped", "Omitted"):
            continue
        final = node
        if node.type == "Retry" and node.children:
            final = by_id[node.children[-1]]
        tasks.setdefault(name, []).append(_execution(final, outputs_of[name], s3))
    return tasks


def _kfp_task_name(node, label: str | None) -> str:
    """The step label; for a template shared by several tasks (a large document) the label is the
    template's `kfp-task` input, so the node's value of it; else the display name without suffix."""
    if label and "{{" not in label:
        return label
    for parameter in (node.inputs or {}).get("parameters") or []:
        if parameter.get("name") == "kfp-task":
            return parameter.get("value")
    return SUFFIX.sub("", node.display_name)


def failure_notes(result) -> list[str]:
    """Each failed pod's message and last log lines, for a readable test failure."""
    return [f"{n.display_name}: {n.message} | {' / '.join((n.log or '').strip().splitlines()[-3:])}"[:400]
            for n in result.nodes if n.type == "Pod" and n.phase in ("Failed", "Error")]


def _execution(node, definitions: dict, s3) -> dict:
    if node.phase != "Succeeded":
        return {"state": FAILED, "parameters": {}, "artifacts": {}}
    argo_params = {p["name"]: p.get("value") for p in (node.outputs or {}).get("parameters") or []}
    executor_output = json.loads(argo_params.get("executor-output") or "{}")
    parameters = {}
    for name, spec in (definitions.get("parameters") or {}).items():
        if name in (executor_output.get("parameterValues") or {}):
            parameters[name] = executor_output["parameterValues"][name]
        elif name in argo_params:
            parameters[name] = _typed(argo_params[name], spec.get("parameterType", "STRING"))
    argo_artifacts = {a["name"]: a for a in (node.outputs or {}).get("artifacts") or []}
    artifacts = {}
    for name in definitions.get("artifacts") or {}:
        listed = ((executor_output.get("artifacts") or {}).get(name) or {}).get("artifacts") or [{}]
        files = _download(s3, argo_artifacts[name]["s3"]["key"]) if name in argo_artifacts else {}
        artifacts[name] = {"files": files, "metadata": listed[0].get("metadata") or {}}
    return {"state": SUCCEEDED, "parameters": parameters, "artifacts": artifacts}
