"""Where artifacts live, and how Argo's own S3 artifact driver moves their bytes.

KFP's executor maps an artifact URI `s3://bucket/key` to the local path `/s3/bucket/key`
(kfp/dsl/types/artifact_types.py: _S3_LOCAL_MOUNT_PREFIX) and reads or writes the bytes there.
So each output artifact gets the URI `<artifact-root>/<workflow>/<pod>/<output>` (unique per run,
task and attempt) and an Argo output artifact at the matching path, uploaded unarchived to the
same key; each input artifact is an Argo input artifact downloaded from the key its URI names.
Keys are "key-only" artifacts (Argo docs/key-only-artifacts.md): bucket, endpoint and credentials
come from the namespace's artifact repository, whose bucket must be the one in --artifact-root.
A step that fails or leaves a declared output unwritten publishes nothing downstream: Argo fails
the node (the output artifact is not optional) and dependents run only after `.Succeeded`.
`{{pod.name}}` may appear anywhere in a pod template (output paths, raw artifact data): the
controller sets it before substituting the whole template (workflow/controller/operator.go
executeTemplate: `localParams[pod.name] = woc.getPodName(...)`, then `common.ProcessArgs`; for a
retried template, per attempt).
"""

from __future__ import annotations

from portway.compile.argo.refs import string_literal, tag

LOCAL_PREFIX = "/s3/"  # kfp/dsl/types/artifact_types.py _S3_LOCAL_MOUNT_PREFIX
KFP_ROOT = "/tmp/kfp"  # executor_output.json and output parameter files (an emptyDir: /tmp)
EXECUTOR_OUTPUT_FILE = f"{KFP_ROOT}/outputs/executor_output.json"


def output_parameter_file(name: str) -> str:
    return f"{KFP_ROOT}/outputs/parameters/{name}"


def group_key(prefix: str, group: str) -> str:
    """Where every output of one looped task lands when a later step collects them (dsl.Collected): the
    collecting step downloads this one prefix, whatever the number of iterations."""
    run = "{{workflow.name}}"
    return f"{prefix}/{run}/{group}" if prefix else f"{run}/{group}"


def output_key(prefix: str, name: str, group: str | None = None) -> str:
    run = "{{workflow.name}}/{{pod.name}}"
    if group:
        return f"{group_key(prefix, group)}/{{{{pod.name}}}}/{name}"
    return f"{prefix}/{run}/{name}" if prefix else f"{run}/{name}"


def output_uri(bucket: str, prefix: str, name: str, group: str | None = None) -> str:
    return f"s3://{bucket}/{output_key(prefix, name, group)}"


def output_path(bucket: str, prefix: str, name: str, group: str | None = None) -> str:
    return f"{LOCAL_PREFIX}{bucket}/{output_key(prefix, name, group)}"


# Artifacts that are all metadata: KFP's executor writes no file for them (kfp/dsl/types/artifact_types.py
# Metrics, ClassificationMetrics, SlicedClassificationMetrics log into metadata only).
METADATA_ONLY = {"system.Metrics", "system.ClassificationMetrics", "system.SlicedClassificationMetrics"}


def output_artifact(bucket: str, prefix: str, name: str, group: str | None = None, schema: str = "") -> dict:
    spec = {"name": name, "path": output_path(bucket, prefix, name, group), "archive": {"none": {}},
            "s3": {"key": output_key(prefix, name, group)}}
    if schema in METADATA_ONLY:
        spec["optional"] = True
    return spec


def key_parameter(name: str) -> str:
    """The template input that carries a list of artifacts' common key prefix (dsl.Collected)."""
    return f"{name}-key"


def key_expression(bucket: str, uri_expr: str) -> str:
    """The S3 key of an artifact URI in the repository's bucket."""
    return f"sprig.trimPrefix({string_literal(f's3://{bucket}/')}, {uri_expr})"


def input_key(bucket: str, name: str, value_expr: str | None) -> str:
    """An input artifact's key as template text: read from its JSON's URI inside the template (so the DAG
    passes nothing more than the artifact), or for a list (value_expr None) its prefix parameter."""
    if value_expr is None:
        return f"{{{{inputs.parameters.{key_parameter(name)}}}}}"
    return tag(key_expression(bucket, f"jsonpath({value_expr}, '$.uri')"))


def input_path(bucket: str, name: str, value_expr: str | None) -> str:
    return f"{LOCAL_PREFIX}{bucket}/{input_key(bucket, name, value_expr)}"


def input_artifact(bucket: str, name: str, value_expr: str | None, optional: bool = False) -> dict:
    spec = {"name": name, "path": input_path(bucket, name, value_expr), "s3": {"key": input_key(bucket, name, value_expr)}}
    if optional:
        spec["optional"] = True
    return spec


def directory_markers(bucket: str, prefix: str, group: str | None) -> list[dict]:
    """Empty raw input artifacts whose placement creates the folders outputs are written to.

    KFP's launcher creates each output's parent folder before the step runs (a container component's
    `cp x /path/out` needs it); Argo has no such step, but it does create the folders of an input
    artifact's path when it places the file (docs/walk-through/hardwired-artifacts.md, `raw`)."""
    return [{"name": "kfp-output-artifacts-folder", "path": output_path(bucket, prefix, ".folder", group),
             "raw": {"data": ""}},
            {"name": "kfp-output-parameters-folder", "path": output_parameter_file(".folder"), "raw": {"data": ""}}]
