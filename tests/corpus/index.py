"""The corpus index: every corpus pipeline, the features it covers, the arguments it runs with,
the issue whose support it needs (11: components and data; 12: control flow), and, where
kfp.local cannot run it, the result KFP would give, written out.

Argument values may hold `{workdir}` (a fresh directory per run, e.g. a retry counter's) and
`{import_uri}` (an object the harness places where the run's importer finds it).

Results, from kfp.local, from the engine or written here, all take one shape (see record.py):
    {"status": "SUCCEEDED" | "FAILED",
     "tasks": {kfp_task_name: [execution, ...]}}    # one execution per run of the task; skipped tasks absent
    execution = {"state": "SUCCEEDED" | "FAILED", "parameters": {name: value},
                 "artifacts": {name: {"files": {relative_path: text or {"hex": ...}}, "metadata": {...}}}}
A file is "" at the key "." when the artifact is a single file. A value written as
{"re": pattern} matches any string that `re.fullmatch`es the pattern (URIs differ by run).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

SUCCEEDED, FAILED = "SUCCEEDED", "FAILED"


@dataclass(frozen=True)
class Case:
    name: str  # the pipeline function's name in its module
    module: str  # under corpus.pipelines
    issue: int  # 11 (component forms and data) or 12 (control flow and kubernetes settings)
    features: tuple[str, ...]
    arguments: dict = field(default_factory=dict)
    status: str = SUCCEEDED  # the final status under KFP
    expected: dict | None = None  # the result, when kfp.local cannot run the pipeline
    why_expected: str = ""  # why kfp.local cannot run it
    # Executions KFP's backend (and Argo) has after a failure that kfp.local may lack: kfp.local
    # stops starting tasks once one failed, so an independent branch runs or not depending on
    # the order it picked; a DAG engine always runs the branches that do not depend on it.
    also_runs: dict = field(default_factory=dict)
    # Checked in its compiled form only, with the reason (it needs an image built for it).
    compiled_only: str = ""
    # Where kfp.local's result differs from KFP's backend, the backend's: {(task, artifact, file):
    # (kfp.local's text, the backend's text)}, with the reason. The reference must hold kfp.local's
    # text there (so nothing else is hidden), and the backend's is compared.
    kfp_backend: dict = field(default_factory=dict)
    why_kfp_backend: str = ""

    @property
    def pipeline(self):
        return getattr(importlib.import_module(f"corpus.pipelines.{self.module}"), self.name)

    @property
    def reference(self) -> str:
        return "expected" if self.expected is not None else "kfp.local"


def ok(parameters: dict | None = None, artifacts: dict | None = None) -> dict:
    """One succeeded execution, for the written-out results."""
    return {"state": SUCCEEDED, "parameters": parameters or {}, "artifacts": artifacts or {}}


def artifact(files, metadata: dict | None = None) -> dict:
    return {"files": files if isinstance(files, dict) else {".": files}, "metadata": metadata or {}}


NO_DOCKER = "a container component: kfp.local's SubprocessRunner refuses it and DockerRunner needs Docker"
URI = {"re": r"\S+://\S+|/\S+"}

CASES: tuple[Case, ...] = (
    # -- issue 11: component forms ---------------------------------------------------------------------------------
    Case("hello_pipeline", "python_components", 11, ("python-component", "default-kfp-install", "pipeline-output"),
         {"recipient": "World"}),
    Case("arithmetic", "python_components", 11,
         ("python-component", "base-image:python:3.11", "base-image:python:3.12-slim", "base-image:python:3.13",
          "float-parameter", "int-parameter")),
    Case("packages_to_install", "python_components", 11, ("packages-to-install",)),
    Case("pip_index_urls", "python_components", 11, ("packages-to-install", "pip-index-urls", "list-parameter")),
    Case("no_kfp_install", "python_components", 11, ("install-kfp-package-false", "bool-output")),
    Case("containerized_component", "python_components", 11, ("containerized-component", "target-image"),
         expected={"status": SUCCEEDED, "tasks": {"containerized-add": [ok({"Output": 42})]}},
         why_expected="a containerized component runs from its target_image, which kfp.local refuses to run",
         compiled_only="its target_image is built by `kfp component build`, which needs Docker"),
    Case("tricky_strings", "parameters", 11,
         ("string-parameter", "unicode", "quotes", "template-braces", "dollar", "named-tuple-output",
          "display-name")),
    Case("numbers_and_bools", "parameters", 11, ("big-int", "negative-int", "float-parameter", "bool-parameter")),
    Case("lists_and_dicts", "parameters", 11, ("list-parameter", "dict-parameter", "nested-json")),
    Case("optional_inputs", "parameters", 11, ("optional-input", "default-values", "missing-pipeline-input")),
    Case("optional_pipeline_input", "parameters", 11, ("optional-pipeline-input-without-value",),
         expected={"status": SUCCEEDED, "tasks": {"greet": [ok({"Output": "Hello, Ada."})]}},
         why_expected="kfp.local 2.17.0 cannot read an optional pipeline input that has no value "
                      "(ValueError: Unknown value type, kfp/local/executor_output_utils.py:175)"),
    Case("required_inputs", "parameters", 11, ("required-pipeline-inputs",),
         {"name": "Ada", "count": 2, "ratio": 0.5, "enabled": True, "tags": ["x", "y"], "extra": {"k": [1, 2]}}),
    Case("artifact_types", "artifacts", 11,
         ("dataset", "model", "metrics", "classification-metrics", "html", "markdown", "artifact-metadata",
          "directory-artifact", "artifact-uri"),
         kfp_backend={("train-model", "model", "config/train.txt"): ("trained on 4.0 rows\n", "trained on 4 rows\n")},
         why_kfp_backend="metadata {'rows': 4} reaches the next step through a protobuf Struct (a double). kfp.local "
                         "writes the executor input with Python's json_format (4.0); KFP's backend with Go's "
                         "protojson.Marshal (backend/src/v2/component/launcher_v2.go compileCmdAndArgs), which "
                         "prints a whole double as 4, as the Argo target's executor input does"),
    Case("importer", "artifacts", 11, ("importer", "importer-reimport", "importer-metadata"),
         {"data_uri": "{import_uri}"}),
    Case("artifact_pipeline_input", "artifacts", 11, ("artifact-pipeline-input",), {"dataset": "{import_uri}"},
         expected={"status": SUCCEEDED, "tasks": {"count-rows": [ok({"Output": 2})]}},
         why_expected="kfp.local refuses artifact-typed pipeline inputs (\"Input artifacts are not supported\")"),
    Case("input_output_paths", "artifacts", 11, ("output-path-parameter", "input-path", "output-path")),
    Case("container_hello", "container_components", 11,
         ("container-component", "input-value", "output-parameter-file", "image:alpine"),
         expected={"status": SUCCEEDED, "tasks": {"say-hello": [ok({"greeting": "Hello, Argo!"})]}},
         why_expected=NO_DOCKER),
    Case("container_artifacts", "container_components", 11,
         ("container-component", "input-path", "output-path", "input-metadata-key", "output-parameter-file"),
         {"text": "one line\nsecond line\n"},
         expected={"status": SUCCEEDED, "tasks": {
             "make-text": [ok(artifacts={"data": artifact("one line\nsecond line\n", {"rows": 2, "lang": "en"})})],
             "shout": [ok({"rows": 2}, {"upper": artifact("ONE LINE\nSECOND LINE\n")})],
             "read-upper": [ok({"Output": "2:ONE LINE\nSECOND LINE\n"})]}},
         why_expected=NO_DOCKER),
    Case("container_uris", "container_components", 11,
         ("container-component", "input-uri", "output-uri", "input-metadata", "output-metadata", "concat"),
         expected={"status": SUCCEEDED, "tasks": {
             "make-text": [ok(artifacts={"data": artifact("payload", {"rows": 1, "lang": "en"})})],
             "locations": [ok({"report": {"re": r'\S+://\S+\n\S+://\S+\nin=\{"lang": ?"en", ?"rows": ?1(\.0)?\};out=\{\}'}},
                              {"model": artifact({"uri.txt": URI})})]}},
         why_expected=NO_DOCKER),
    Case("container_if_present", "container_components", 11, ("container-component", "if-present", "concat"),
         expected={"status": SUCCEEDED, "tasks": {"maybe-flag": [ok({"out": "label=given|--suffix|v2|x-v2|"})],
                                                  "maybe-flag-2": [ok({"out": "label=plain|--no-suffix|x-none|"})]}},
         why_expected=NO_DOCKER),
    Case("container_python_script", "container_components", 11,
         ("container-component", "image:python:3.12-slim", "output-path", "output-parameter-file"),
         expected={"status": SUCCEEDED, "tasks": {
             "python-script": [ok({"total": 5.0}, {"lines": artifact("0\n1\n2\n3\n4\n")})],
             "check-lines": [ok({"Output": "5 lines, total 5.0"})]}},
         why_expected=NO_DOCKER),
    Case("container_env", "container_components", 11, ("container-component", "env-vars"),
         expected={"status": SUCCEEDED,
                   "tasks": {"print-env": [ok({"out": "hola/mundo {{ not a template }}"})]}},
         why_expected=NO_DOCKER),
    Case("env_vars", "task_settings", 11, ("env-vars", "dict-output")),
    Case("resources_and_accelerators", "task_settings", 11,
         ("cpu-request", "cpu-limit", "memory-request", "memory-limit", "accelerator", "display-name")),
    Case("caching_and_display_names", "task_settings", 11,
         ("caching-on", "caching-off", "cache-key", "display-name")),
    Case("retries", "task_settings", 11, ("retry", "caching-off"), {"state_dir": "{workdir}"}),
    Case("train_and_evaluate", "ml_flow", 11, ("dataset", "model", "metrics", "multiple-artifact-outputs")),
    Case("pipeline_artifact_outputs", "ml_flow", 11, ("pipeline-artifact-outputs", "named-tuple-pipeline-output")),
    Case("directory_artifacts", "ml_flow", 11, ("directory-artifact", "binary-bytes", "generic-artifact")),
    Case("reused_component", "ml_flow", 11, ("same-component-several-tasks",)),
    Case("named_tuple_outputs", "ml_flow", 11, ("named-tuple-output",)),
    Case("one_component_on_each_output", "ml_flow", 11, ("same-component-several-tasks", "named-tuple-output",
                                                         "multiple-artifact-outputs")),
    # -- issue 12: control flow -------------------------------------------------------------------------------------
    Case("if_elif_else", "conditions", 12, ("if", "elif", "else", "condition-on-task-output", "string-compare")),
    Case("numeric_conditions", "conditions", 12, ("if", "int-compare", "float-compare", "compare-to-parameter")),
    Case("boolean_conditions", "conditions", 12, ("if", "else", "bool-compare", "bool-task-output")),
    Case("nested_conditions", "conditions", 12, ("if", "elif", "else", "nested-conditions")),
    Case("condition_injection", "conditions", 12, ("if", "else", "runtime-value-never-evaluated"),
         expected={"status": SUCCEEDED, "tasks": {
             "passthrough": [ok({"Output": "x' == 'x' || 'a"})], "report-2": [ok({"Output": "not safe"})]}},
         why_expected="kfp.local 2.17.0 pastes runtime values into the condition's text before evaluating it "
                      "(kfp/local/orchestrator/enhanced_dag_orchestrator.py:143-147), so this value "
                      "makes both false conditions true; KFP's backend binds values as CEL variables"),
    Case("condition_between_tasks", "conditions", 12, ("if", "after-inside-condition")),
    Case("loop_over_constants", "loops", 12, ("parallel-for", "constant-items", "parallelism", "unicode")),
    Case("loop_over_dicts", "loops", 12, ("parallel-for", "parameter-items", "dict-items", "field-selector")),
    Case("loop_over_task_output", "loops", 12, ("parallel-for", "task-output-items", "dict-items", "field-selector")),
    Case("loop_over_parameter", "loops", 12, ("parallel-for", "parameter-items", "outer-parameter-in-loop")),
    Case("nested_loops", "loops", 12, ("parallel-for", "nested-loops", "parallelism")),
    Case("loop_over_artifacts", "loops", 12, ("parallel-for", "artifact-in-loop")),
    Case("loop_item_condition", "loops", 12, ("parallel-for", "if", "condition-on-loop-item")),
    Case("loop_field_condition", "loops", 12, ("parallel-for", "if", "condition-on-loop-item-field", "dict-items"),
         expected={"status": SUCCEEDED, "tasks": {"train": [ok({"Output": "large: lr=0.5 depth=8"})]}},
         why_expected="kfp.local 2.17.0 cannot resolve a loop item's field in a condition and takes it as "
                      "false (\"Could not resolve CEL parameter\", kfp/local/orchestrator/"
                      "enhanced_dag_orchestrator.py:149-151)"),
    Case("collected_parameters", "fan_in", 12, ("parallel-for", "collected-parameters")),
    Case("collected_artifacts", "fan_in", 12, ("parallel-for", "collected-artifacts")),
    Case("collected_nested_loops", "fan_in", 12, ("nested-loops", "collected-parameters")),
    Case("collected_into_nested_pipeline", "fan_in", 12,
         ("collected-artifacts", "nested-pipeline", "artifact-iterator", "collected-parameters"),
         expected={"status": SUCCEEDED, "tasks": {
             "write-part": [ok(artifacts={"part": artifact(w, {"text": w})}) for w in ("a", "bb", "cccc")],
             "dataset-length": [ok({"Output": n}) for n in (1, 2, 4)], "largest": [ok({"Output": 4})]}},
         why_expected="kfp.local 2.17.0 cannot collect from a loop inside a nested pipeline "
                      "(ValueError: ... task 'for-loop-1' not found)"),
    Case("one_of_parameters", "fan_in", 12, ("one-of-parameters", "if", "else")),
    Case("one_of_artifacts", "fan_in", 12, ("one-of-artifacts", "if", "else", "pipeline-artifact-outputs"),
         expected={"status": SUCCEEDED, "tasks": {
             "write-part-2": [ok(artifacts={"part": artifact("a much longer text", {"text": "a much longer text"})})],
             "dataset-length": [ok({"Output": 18})]}},
         why_expected="kfp.local 2.17.0 refuses dsl.OneOf of artifacts (\"Expected 1 artifact in ArtifactSelectorSpec\")"),
    Case("exit_handler_success", "exit_handlers", 12, ("exit-handler", "final-status")),
    Case("exit_handler_failure", "exit_handlers", 12, ("exit-handler", "final-status", "failure"), status=FAILED),
    Case("exit_handler_plain_task", "exit_handlers", 12, ("exit-handler",)),
    Case("exit_handler_pipeline_task", "exit_handlers", 12, ("exit-handler", "exit-task-pipeline", "nested-pipeline")),
    Case("nested_pipelines", "nested", 12, ("nested-pipeline", "three-levels", "pipeline-artifact-outputs")),
    Case("after_across_groups", "nested", 12, ("after-loop", "after-nested-pipeline", "after-inside-loop")),
    Case("ignore_upstream_failure", "nested", 12, ("ignore-upstream-failure", "failure"), status=FAILED),
    Case("failing_step", "failures", 12, ("failure", "independent-branch-completes"), status=FAILED,
         also_runs={"step-3": [ok({"Output": "independent."})]}),
    Case("failing_loop_iteration", "failures", 12, ("failure", "parallel-for"), status=FAILED),
    Case("failing_nested_pipeline", "failures", 12, ("failure", "nested-pipeline"), status=FAILED,
         also_runs={"step": [ok({"Output": "inner."})]}),
    Case("failing_output_type", "failures", 12, ("failure", "executor-type-error"), status=FAILED,
         also_runs={"step": [ok({"Output": "ok."})]}),
    Case("kubernetes_secrets_configmaps", "kubernetes_settings", 12,
         ("secret-as-env", "configmap-as-env", "secret-as-volume", "configmap-as-volume"),
         expected={"status": SUCCEEDED, "tasks": {"read-settings": [ok({"Output": {
             "DB_PASSWORD": "s3cr3t", "MODE": "batch", "/mnt/creds/username": "corpus-user",
             "/mnt/config/mode": "batch"}})]}},
         why_expected="kfp.local ignores kfp-kubernetes settings; the engine is given the Secret db-credentials "
                      "{password: s3cr3t, username: corpus-user} and the ConfigMap app-config {mode: batch}"),
    Case("kubernetes_scheduling", "kubernetes_settings", 12,
         ("node-selector", "toleration", "node-affinity", "pod-label", "pod-annotation", "image-pull-secret",
          "image-pull-policy", "timeout", "empty-dir", "field-path-env"),
         expected={"status": SUCCEEDED, "tasks": {"shape-only": [ok({"Output": {
             "text": "scheduled", "pod_name": {"re": r"[a-z0-9][-a-z0-9.]*"}, "scratch": ["probe.txt"]}})]}},
         why_expected="kfp.local ignores kfp-kubernetes settings: no emptyDir at /scratch, no POD_NAME"),
    Case("kubernetes_pvc", "kubernetes_settings", 12, ("pvc-create", "pvc-mount", "pvc-delete"),
         expected={"status": SUCCEEDED, "tasks": {
             "write-shared": [ok()], "read-shared": [ok({"Output": "shared through a volume"})],
             "createpvc": [ok({"name": {"re": r"\S+-corpus"}})], "deletepvc": [ok()]}},
         why_expected="kfp.local has no volumes: the PVC is created by the engine's resource controller"),
    Case("loop_in_condition_in_nested_with_exit_handler", "combinations", 12,
         ("exit-handler", "final-status", "nested-pipeline", "if", "else", "parallel-for", "collected-parameters",
          "one-of-parameters", "parallelism")),
    Case("nested_pipeline_in_loop", "combinations", 12, ("parallel-for", "nested-pipeline", "collected-parameters")),
    Case("condition_in_loop_on_task_output", "combinations", 12, ("parallel-for", "if", "condition-on-task-output")),
)

BY_NAME = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), "corpus names must be unique"
