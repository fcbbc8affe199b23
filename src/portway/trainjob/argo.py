"""The Argo target's distributed train: Argo's native `resource` template creating a TrainJob.

A post-compile pass, `apply(document)`: the Argo compiler knows nothing of it. When the compiled
workflow's `workers` argument is above 1, every template whose pod carries the label
`portway.dev/trainjob: xgboost-distributed` (the pipeline sets it on its train task with
kfp-kubernetes) is replaced by a resource template that

  - creates the TrainJob (portway.trainjob.render) from what the container template held: image,
    requests and limits, GPU node selector and toleration, env, service account, security
    context, labels; the workers run `python -m portway.steps.train_distributed` on the input
    artifacts' S3 URIs and write the model under the step's own output key;
  - sets the workflow as the TrainJob's owner (`setOwnerReference`), so deleting the workflow
    deletes the job and its pods;
  - waits: success when the TrainJob's single replicated job (`node`) has succeeded, failure when
    any of its conditions is `Failed`, naming the TrainJob's reason when it is one Trainer or
    JobSet documents (below);
  - outputs `executor-output`, KFP's executor output (the model artifact's URI and metadata),
    from an annotation of the TrainJob, as downstream tasks read it from a container step.

How Argo evaluates the conditions (argo-workflows workflow/executor/resource.go, WaitResource and
matchConditions): each is parsed as a Kubernetes label selector whose keys are gjson paths into
the resource's JSON; the *failure* requirements are tried one by one and any that matches fails
the step (with the message "failure condition '<requirement>' evaluated true"), while *all*
success requirements must match. A label key cannot hold gjson's `#(...)` queries, so the
conditions are addressed by position: a TrainJob has at most 8 (CRD `status.conditions`,
maxItems 8).
"""

from __future__ import annotations

import copy
import json

from portway.compile.argo.picks import selector_parameter
from portway.config import GPU_RESOURCE
from portway.errors import ParameterError
from portway.trainjob.render import RUNTIME_NAME, render_trainjob

LAUNCHER_LABEL = "portway.dev/trainjob"
EXECUTOR_OUTPUT = "executor-output"
# No prefix (so no dot): the key reads the same in every JSONPath implementation ({.a.b.key}).
OUTPUT_ANNOTATION = "portway_executor_output"
MAX_CONDITIONS = 8  # trainer.kubeflow.org_trainjobs.yaml: status.conditions maxItems
# The Failed condition's reason: Trainer's own (pkg/apis/trainer/v1alpha1/trainjob_types.go) or
# the JobSet's, which Trainer copies (jobset pkg/constants/constants.go: FailedJobsReason,
# ReachedMaxRestartsReason).
FAILURE_REASONS = ("FailedJobs", "ReachedMaxRestarts", "DeadlineExceeded", "TrainingRuntimeNotSupported")
# The xgboost-distributed runtime has one replicated job, `node` (xgboost_distributed.yaml):
# `status.jobsStatus[0]` mirrors it, `succeeded` counting its completed Jobs.
SUCCESS_CONDITION = "status.jobsStatus.0.succeeded > 0"
# The train component's inputs: artifacts the workers read, and settings passed through.
DATA_INPUTS = {"train_data": "--train-data", "validation_data": "--validation-data", "profile": "--profile"}
HYPERPARAMETERS = ("max_depth", "eta", "subsample", "colsample_bytree", "min_child_weight")
SETTINGS = ("num_boost_round", "early_stopping_rounds", "seed")
MODEL_OUTPUT = "model"
S3_MOUNT = "/s3/"  # KFP's local path of s3://bucket/key (kfp/dsl/types/artifact_types.py)


def failure_condition() -> str:
    """Any condition of type Failed; the documented reasons first, so Argo's message names them."""
    requirements = []
    for i in range(MAX_CONDITIONS):
        requirements += [f"status.conditions.{i}.reason == {reason}" for reason in FAILURE_REASONS]
        requirements.append(f"status.conditions.{i}.type == Failed")
    return ",".join(requirements)


def _placeholder(name: str) -> str:
    return "{{inputs.parameters." + name + "}}"


def _workflow_spec(document: dict) -> dict:
    spec = document.get("spec", {})
    return spec.get("workflowSpec", spec) if document.get("kind") == "CronWorkflow" else spec


def _argument(spec: dict, name: str) -> str | None:
    for parameter in spec.get("arguments", {}).get("parameters", []):
        if parameter.get("name") == name:
            return parameter.get("value")
    return None


def workers_of(document: dict) -> int:
    raw = _argument(_workflow_spec(document), "workers")
    if raw is None:
        return 1
    try:
        workers = int(str(raw))
    except ValueError:
        raise ParameterError(f"workers={raw!r} is not a whole number.") from None
    if workers < 1:
        raise ParameterError(f"workers must be at least 1, got {workers}.")
    return workers


def is_launcher(template: dict) -> bool:
    return template.get("metadata", {}).get("labels", {}).get(LAUNCHER_LABEL) == RUNTIME_NAME


def apply(document: dict) -> dict:
    """The document with its TrainJob launchers as resource templates when `workers` > 1 (in place)."""
    if workers_of(document) <= 1:
        return document
    spec = _workflow_spec(document)
    for index, template in enumerate(spec.get("templates", [])):
        if is_launcher(template) and "container" in template:
            spec["templates"][index] = resource_template(template, spec)
    return document


def _s3_uri(artifact: dict, what: str) -> str:
    path = artifact.get("path", "")
    if not path.startswith(S3_MOUNT):
        raise ParameterError(f"{what} {artifact.get('name')!r} is not an S3 artifact at {S3_MOUNT}<bucket>/<key> "
                             f"(path {path!r}); a TrainJob's workers read and write S3.")
    return "s3://" + path[len(S3_MOUNT):]


def _by_name(items: list, name: str, template: str, what: str) -> dict:
    for item in items or []:
        if item.get("name") == name:
            return item
    raise ParameterError(f"template {template!r} has no {what} {name!r}, which a TrainJob launcher needs.")


def _settings_json() -> str:
    """The entry point's --params, with Argo placeholders where the numbers go (substituted as text)."""
    settings = {"hyperparameters": {name: f"@{name}@" for name in HYPERPARAMETERS},
                **{name: f"@{name}@" for name in SETTINGS}}
    text = json.dumps(settings, sort_keys=True)
    for name in (*HYPERPARAMETERS, *SETTINGS):
        text = text.replace(f'"@{name}@"', _placeholder(name))
    return text


def resource_template(template: dict, spec: dict) -> dict:
    """The resource template that replaces one TrainJob launcher's container template."""
    name = template["name"]
    container = template["container"]
    inputs = template.get("inputs", {})
    data = {key: _s3_uri(_by_name(inputs.get("artifacts"), key, name, "input artifact"), "input artifact")
            for key in DATA_INPUTS}
    # An input's key is an expression tag (read from the artifact's JSON, compile/argo/artifacts.py). Argo
    # substitutes the manifest as text before parsing it, so the tag must reach the manifest unquoted by
    # YAML: a token goes through the dump and the tag replaces it after.
    spliced = {}
    for key, uri in data.items():
        if "{{=" in uri:
            spliced[f"@uri-{key}@"], data[key] = uri, f"@uri-{key}@"
    model = _s3_uri(_by_name(template.get("outputs", {}).get("artifacts"), MODEL_OUTPUT, name, "output artifact"),
                    "output artifact")
    parameters = {p["name"] for p in inputs.get("parameters", [])}
    missing = sorted({"workers", *HYPERPARAMETERS, *SETTINGS} - parameters)
    if missing:
        raise ParameterError(f"template {name!r} lacks input parameter(s) {', '.join(missing)} of a TrainJob launcher.")
    # The settings are spliced into the job as they are passed; one picked out of an upstream step's output
    # (its template holds the JSON path in `<name>-from`, compile/argo/picks.py) would arrive as that whole output.
    picked = sorted(n for n in ("workers", *HYPERPARAMETERS, *SETTINGS) if selector_parameter(n) in parameters)
    if picked:
        raise ParameterError(f"template {name!r}: a TrainJob launcher takes {', '.join(picked)} as pipeline parameters "
                             "or constants, not from an upstream step's output.")
    resources = container.get("resources", {})
    gpus = int(str(resources.get("limits", {}).get(GPU_RESOURCE, 0)))
    args = [f"{flag}={data[key]}" for key, flag in DATA_INPUTS.items()]
    args += [f"--model={model}", f"--params={_settings_json()}", f"--gpus={gpus}"]
    labels = {**spec.get("podMetadata", {}).get("labels", {}), **template.get("metadata", {}).get("labels", {})}
    metadata = {"framework": "xgboost", "model_file": "model.json", "workers": "@workers@",
                "parameters": {**{k: f"@{k}@" for k in (*HYPERPARAMETERS, *SETTINGS)}, "workers": "@workers@",
                               "tree_method": "hist"}}
    executor_output = json.dumps({"artifacts": {MODEL_OUTPUT: {"artifacts": [
        {"name": MODEL_OUTPUT, "uri": model, "metadata": metadata}]}}}, sort_keys=True)
    for key in ("workers", *HYPERPARAMETERS, *SETTINGS):
        executor_output = executor_output.replace(f'"@{key}@"', _placeholder(key))
    job = render_trainjob(
        generate_name=f"{name[:20]}-",
        num_nodes=_placeholder("workers"),
        image=container["image"],
        args=args,
        requests=resources.get("requests", {}),
        limits=resources.get("limits", {}),
        node_selector=template.get("nodeSelector"),
        tolerations=template.get("tolerations"),
        env=container.get("env"),
        labels=labels,
        annotations={OUTPUT_ANNOTATION: executor_output},
        service_account=template.get("serviceAccountName") or spec.get("serviceAccountName"),
        security_context=container.get("securityContext"),
        pod_security_context=template.get("securityContext") or spec.get("securityContext"),
        active_deadline_seconds=template.get("activeDeadlineSeconds") or spec.get("activeDeadlineSeconds"),
        scratch_dir="/tmp",
    )
    manifest = _manifest_text(job, spliced)
    replaced = {key: copy.deepcopy(template[key]) for key in ("name", "metadata", "retryStrategy", "memoize",
                                                               "activeDeadlineSeconds", "timeout") if key in template}
    replaced["inputs"] = {"parameters": copy.deepcopy(inputs.get("parameters", []))}
    replaced["resource"] = {"action": "create", "setOwnerReference": True, "manifest": manifest,
                            "successCondition": SUCCESS_CONDITION, "failureCondition": failure_condition()}
    replaced["outputs"] = {"parameters": [{"name": EXECUTOR_OUTPUT, "valueFrom": {
        "jsonPath": "{.metadata.annotations." + OUTPUT_ANNOTATION + "}"}}]}
    return replaced


def _manifest_text(job: dict, tokens: dict[str, str]) -> str:
    """The job as YAML, with what Argo must find unquoted put in after the dump: numNodes' placeholder (an
    integer once Argo has substituted it) and each token's text (an expression tag YAML quoting would alter)."""
    import yaml

    text = yaml.safe_dump(job, sort_keys=False, width=1 << 20)
    unquoted = {f"numNodes: '{_placeholder('workers')}'": f"numNodes: {_placeholder('workers')}", **tokens}
    for found, wanted in unquoted.items():
        if found not in text:
            raise AssertionError(f"{found!r} not found in the rendered manifest")
        text = text.replace(found, wanted)
    return text
