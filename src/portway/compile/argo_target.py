"""Argo target: KFP IR → an Argo Workflows v4 Workflow, WorkflowTemplate or CronWorkflow.

Upstream has no IR-to-Argo path without the KFP backend (API server, driver, launcher,
metadata store). This converter reads the compiled IR, the single source, and writes the
same pipeline as plain Argo objects built with hera's models:

- each KFP container task becomes one Argo template running the component's own Python
  source (from the IR) through `portway.launcher` in the project image; artifacts move
  through S3 and travel between tasks as URI parameters;
- the DAG keeps KFP's dependencies; If/Elif/Else groups are flattened and their condition
  becomes each task's `when`; ParallelFor becomes a DAG template expanded with
  `withParam`/`withItems` (one template whatever the fan-out);
- retries become `retryStrategy` with backoff, caching becomes `memoize` (a key over the
  step's code, image and inputs, plus a `maxAge` KFP lacks), resources, GPUs, tolerations,
  node selectors and pod labels carry over from the IR and its PlatformSpec.

Whatever the IR holds that this target cannot express is named in a warning
(ArgoTargetWarning) or, when running without it would be wrong, refused (UnsupportedFeature).
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from portway.compile.kfp_target import is_project_image
from portway.config import DEFAULT_IMAGE, DEFAULT_RESOURCES, ResourceSpec
from portway.errors import ParameterError, PortwayError

LAUNCHER_COMMAND = ["python", "-m", "portway.launcher"]
# Where the launcher writes output parameters and Argo reads them (valueFrom.path); /tmp is
# an emptyDir because the root filesystem is read-only.
OUTPUTS_DIR = "/tmp/outputs"
ARTIFACT_ROOT_PARAMETER = "artifact-root"
DEFAULT_ARTIFACT_ROOT = "s3://portway-artifacts/pipelines"
DEFAULT_SERVICE_ACCOUNT = "portway-pipeline-runner"
DEFAULT_CACHE_CONFIGMAP = "portway-step-cache"
# SageMaker's CacheConfig.expire_after; KFP caches forever. Keep the artifact bucket's lifecycle
# rule longer than this, or a cache hit may point at deleted objects.
DEFAULT_CACHE_MAX_AGE = "168h"
DEFAULT_TEAM = "unassigned"
RUN_AS_USER = 10001  # the Dockerfile's non-root user
KINDS = ("Workflow", "WorkflowTemplate", "CronWorkflow")
# etcd keeps each Kubernetes object whole (about 1 MB by default) and the controller writes the
# run's node status into the same Workflow object, so the spec itself must stay far below.
MAX_DOCUMENT_BYTES = 1024 * 1024
# A component without requests in the IR still gets some: the scheduler packs by requests.
FALLBACK_RESOURCES = ResourceSpec(cpu="500m", memory="1Gi", cpu_limit="1", memory_limit="2Gi")

# KFP runtime placeholders (dsl.PIPELINE_*_PLACEHOLDER) and their Argo variables.
PLACEHOLDERS = {
    "{{$.pipeline_job_name}}": "{{workflow.name}}",
    "{{$.pipeline_job_resource_name}}": "{{workflow.name}}",
    "{{$.pipeline_job_uuid}}": "{{workflow.uid}}",
    "{{$.pipeline_task_uuid}}": "{{pod.name}}",
    "{{$.pipeline_job_create_time_utc}}": "{{workflow.creationTimestamp}}",
    "{{$.pipeline_job_schedule_time_utc}}": "{{workflow.scheduledTime}}",
}
RUN_IDENTITY = re.compile(r"\{\{(workflow\.(name|uid|creationTimestamp|scheduledTime)|pod\.name)\}\}")
# PlatformSpec (kfp-kubernetes) executor settings this target carries over.
# IR fields this target reads; anything else found in a task, component or container is named in a warning.
KNOWN_TASK_KEYS = {"taskInfo", "inputs", "dependentTasks", "cachingOptions", "componentRef", "triggerPolicy",
                   "parameterIterator", "artifactIterator", "retryPolicy", "iteratorPolicy"}
KNOWN_COMPONENT_KEYS = {"inputDefinitions", "outputDefinitions", "dag", "executorLabel"}
KNOWN_CONTAINER_KEYS = {"image", "command", "args", "resources", "env"}
SUPPORTED_PLATFORM_KEYS = {"tolerations", "nodeSelector", "podMetadata", "activeDeadlineSeconds", "imagePullPolicy",
                           "secretAsEnv", "configMapAsEnv", "imagePullSecret"}


class ArgoTargetWarning(UserWarning):
    """A KFP setting the Argo target does not carry over (named, never silently dropped)."""


class UnsupportedFeature(PortwayError):
    """The IR uses something the Argo target cannot run correctly."""


@dataclass
class ArgoOptions:
    image: str = DEFAULT_IMAGE
    kind: str = "Workflow"
    name: str | None = None
    namespace: str | None = None
    schedule: str | None = None
    timezone: str | None = None
    service_account: str = DEFAULT_SERVICE_ACCOUNT
    team: str = DEFAULT_TEAM
    artifact_root: str = DEFAULT_ARTIFACT_ROOT
    cache_configmap: str = DEFAULT_CACHE_CONFIGMAP
    cache_max_age: str = DEFAULT_CACHE_MAX_AGE
    active_deadline_seconds: int = 24 * 3600
    ttl_after_success_seconds: int = 24 * 3600
    ttl_after_failure_seconds: int = 7 * 24 * 3600
    s3_secret: str | None = None
    s3_endpoint: str | None = None
    parameters: dict = field(default_factory=dict)

    def check(self) -> None:
        from portway.names import validate_name

        if self.kind not in KINDS:
            raise ParameterError(f"--kind {self.kind!r} is not supported; expected one of {', '.join(KINDS)}.")
        if self.kind == "CronWorkflow" and not self.schedule:
            raise ParameterError('--kind CronWorkflow needs --schedule, a cron expression such as "0 3 * * *".')
        if self.schedule and self.kind != "CronWorkflow":
            raise ParameterError(f"--schedule applies to --kind CronWorkflow, not {self.kind}.")
        if self.schedule and len(self.schedule.split()) not in (5, 6) and not self.schedule.startswith("@"):
            raise ParameterError(
                f"--schedule {self.schedule!r} is not a cron expression; expected five fields such as "
                '"0 3 * * *" (minute hour day-of-month month day-of-week) or a macro such as "@daily".'
            )
        if not isinstance(self.active_deadline_seconds, int) or self.active_deadline_seconds < 1:
            raise ParameterError(f"--active-deadline-seconds must be a positive whole number of seconds, got "
                                 f"{self.active_deadline_seconds!r}.")
        if not re.fullmatch(r"\d+(\.\d+)?(s|m|h)", self.cache_max_age):
            raise ParameterError(f"--cache-max-age {self.cache_max_age!r} is not a duration such as 168h, 90m or 3600s.")
        if not (self.artifact_root.startswith("s3://") and len(self.artifact_root) > 5):
            raise ParameterError(f"--artifact-root {self.artifact_root!r} must be an s3://bucket/prefix URI.")
        for value, what in ((self.team, "--team"), (self.service_account, "--service-account")):
            validate_name(value, what)
        if self.name:
            _check_dns_name(self.name, "--name")
        if self.namespace:
            _check_dns_name(self.namespace, "--namespace")
        if self.s3_secret:
            _check_dns_name(self.s3_secret, "--s3-secret")


def _check_dns_name(value: str, what: str) -> None:
    # Kubernetes object names: RFC 1123 labels; a Workflow's generated pod names add to it.
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", value):
        raise ParameterError(
            f"{what} {value!r} is not a Kubernetes name: use at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit."
        )


@dataclass
class Value:
    """One input value as an Argo DAG task sees it."""

    text: str  # the argument value: a literal, "{{...}}" or "{{=...}}"
    kfp_type: str  # IR parameterType, or "artifact"
    producer: str | None = None  # the Argo task (same DAG) that must run first
    expr: str | None = None  # the same value in Argo's expression language, for OneOf


@dataclass
class Scope:
    """Where an IR DAG component is being written: the Argo DAG it lands in and its context."""

    resolve_input: Callable[[str, str | None], Value]  # (input name, KFP item selector or None)
    conditions: list[str]
    depends: set[str]
    tasks: list  # the Argo DAG's tasks (models.DAGTask), shared by flattened groups
    outputs: dict[str, dict[str, Value]] = field(default_factory=dict)  # IR task -> its outputs
    leaves: dict[str, set[str]] = field(default_factory=dict)  # IR task -> the Argo tasks it became


def render_parameter(value, kfp_type: str) -> str:
    """A KFP parameter value as the string Argo passes (and the launcher parses back)."""
    if kfp_type == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(_integral_floats_as_ints(value), sort_keys=True, separators=(",", ":"))
    if isinstance(value, float) and value.is_integer() and kfp_type != "NUMBER_DOUBLE":
        value = int(value)
    return str(value)


def _integral_floats_as_ints(value):
    # The IR stores every number as a double (protobuf Value); 6.0 was written as 6.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_as_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    return value


def _topological(tasks: dict) -> list[str]:
    """IR task names, producers before consumers (ties by name, so the output is stable)."""
    needs = {name: set(task.get("dependentTasks", [])) for name, task in tasks.items()}
    for name, task in tasks.items():
        for group in ("parameters", "artifacts"):
            for spec in task.get("inputs", {}).get(group, {}).values():
                for key in ("taskOutputParameter", "taskOutputArtifact"):
                    if key in spec:
                        needs[name].add(spec[key]["producerTask"])
    order, done = [], set()
    while len(order) < len(tasks):
        ready = sorted(n for n in tasks if n not in done and needs[n] <= done)
        if not ready:
            raise UnsupportedFeature(f"The IR's DAG has a cycle among {sorted(set(tasks) - done)}.")
        order += ready
        done.update(ready)
    return order


class Converter:
    def __init__(self, compiled: dict, options: ArgoOptions):
        self.spec = compiled["pipeline_spec"]
        self.warnings: list[str] = []
        platform = (compiled.get("platform_spec") or {}).get("platforms", {}).get("kubernetes", {})
        self.platform_executors = platform.get("deploymentSpec", {}).get("executors", {})
        for other in sorted(set((compiled.get("platform_spec") or {}).get("platforms", {})) - {"kubernetes"}):
            self.warn(f"the PlatformSpec for platform {other!r} is not carried over")
        if compiled["pipeline_spec"].get("defaultPipelineRoot"):
            self.warn(f"the pipeline root {compiled['pipeline_spec']['defaultPipelineRoot']!r} is not used; "
                      "artifacts go under --artifact-root")
        if platform.get("pipelineConfig"):
            self.warn(f"the PlatformSpec's pipelineConfig {sorted(platform['pipelineConfig'])} is not carried over")
        self.options = options
        self.components = self.spec["components"]
        self.executors = self.spec["deploymentSpec"]["executors"]
        self.templates: list = []
        self.template_names: set[str] = set()
        self.task_names: set[str] = set()
        self.image_pull_secrets: set[str] = set()

    # -- bookkeeping ---------------------------------------------------------------------------------
    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def unique(self, name: str, taken: set[str]) -> str:
        base = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "task"
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        taken.add(candidate)
        return candidate

    # -- values ----------------------------------------------------------------------------------------
    def resolve_input(self, spec: dict, kfp_type: str, scope: Scope, consumer: str) -> Value:
        if "componentInputParameter" in spec or "componentInputArtifact" in spec:
            return scope.resolve_input(spec.get("componentInputParameter") or spec["componentInputArtifact"],
                                       spec.get("parameterExpressionSelector"))
        if "runtimeValue" in spec:
            return Value(self.constant(spec["runtimeValue"]["constant"], kfp_type, consumer), kfp_type)
        for key in ("taskOutputParameter", "taskOutputArtifact"):
            if key in spec:
                producer = spec[key]["producerTask"]
                output = spec[key].get("outputParameterKey") or spec[key]["outputArtifactKey"]
                if producer not in scope.outputs or output not in scope.outputs[producer]:
                    raise UnsupportedFeature(
                        f"task {consumer!r} reads output {output!r} of {producer!r}, which this target cannot "
                        "reach (a dsl.Collected fan-in out of a ParallelFor is not supported by the Argo target)."
                    )
                return scope.outputs[producer][output]
        raise UnsupportedFeature(f"task {consumer!r} has an input of a kind the Argo target does not know: {spec}.")

    def constant(self, value, kfp_type: str, consumer: str) -> str:
        text = render_parameter(value, kfp_type)
        for placeholder, argo in PLACEHOLDERS.items():
            text = text.replace(placeholder, argo)
        if "{{$" in text:
            self.warn(f"task {consumer!r}: the KFP placeholder in {text!r} has no Argo equivalent; it is passed empty")
            text = re.sub(r"\{\{\$[^}]*\}\}", "", text)
        return text

    def task_inputs(self, task: dict, component: dict, scope: Scope, name: str) -> dict[str, Value]:
        definitions = component.get("inputDefinitions", {})
        values = {}
        for group, typed in (("parameters", "parameterType"), ("artifacts", None)):
            for input_name, spec in task.get("inputs", {}).get(group, {}).items():
                definition = definitions.get(group, {}).get(input_name, {})
                kfp_type = definition.get(typed, "STRING") if typed else "artifact"
                if definition.get("isArtifactList"):
                    raise UnsupportedFeature(f"task {name!r}: input {input_name!r} is a list of artifacts "
                                             "(dsl.Collected), which the Argo target does not support.")
                values[input_name] = self.resolve_input(spec, kfp_type, scope, name)
        return values

    # -- conditions ------------------------------------------------------------------------------------
    def when(self, condition: str, values: dict[str, Value], task: str) -> str:
        """KFP's CEL condition as an Argo `when` (govaluate after substitution)."""

        def replace(match: re.Match) -> str:
            name = match.group(1) or match.group(2)
            if name not in values:
                raise UnsupportedFeature(f"task {task!r}: its condition reads {name!r}, which it does not receive.")
            value = values[name]
            if value.kfp_type != "STRING":
                return value.text
            if "'" in value.text:
                raise UnsupportedFeature(f"task {task!r}: the condition compares {value.text!r}, which holds a quote.")
            return f"'{value.text}'"

        pattern = r"(?:int|double)\(inputs\.parameter_values\['([^']+)'\]\)|inputs\.parameter_values\['([^']+)'\]"
        translated = re.sub(pattern, replace, condition)
        if "inputs." in translated or "parseJson" in translated:
            raise UnsupportedFeature(f"task {task!r}: cannot translate the condition {condition!r} to Argo.")
        return translated

    # -- DAGs ----------------------------------------------------------------------------------------------
    def convert_dag(self, component_name: str, scope: Scope) -> dict[str, Value]:
        component = self.components[component_name]
        dag = component["dag"]
        for name in _topological(dag["tasks"]):
            self.convert_task(name, dag["tasks"][name], scope)
        outputs = {}
        for group in ("parameters", "artifacts"):
            for output_name, spec in dag.get("outputs", {}).get(group, {}).items():
                outputs[output_name] = self.dag_output(spec, scope, component_name, output_name)
        return outputs

    def dag_output(self, spec: dict, scope: Scope, component: str, output: str) -> Value:
        if "valueFromParameter" in spec:
            ref = spec["valueFromParameter"]
            return scope.outputs[ref["producerSubtask"]][ref["outputParameterKey"]]
        selectors = (spec.get("valueFromOneof", {}).get("parameterSelectors")
                     or spec.get("artifactSelectors") or spec.get("valueFromOneof", {}).get("artifactSelectors"))
        if not selectors:
            raise UnsupportedFeature(f"{component}: output {output!r} has a form the Argo target does not know: {spec}.")
        key = "outputParameterKey" if "outputParameterKey" in selectors[0] else "outputArtifactKey"
        choices = [scope.outputs[s["producerSubtask"]][s[key]] for s in selectors]
        if len(choices) == 1:
            return choices[0]
        # dsl.OneOf: exactly one branch ran; the skipped ones have no outputs in Argo's scope.
        if any(c.expr is None for c in choices):
            raise UnsupportedFeature(f"{component}: output {output!r} is a OneOf over values that are not task outputs.")
        expression = " ?? ".join(c.expr for c in choices)
        return Value("{{=" + expression + "}}", choices[0].kfp_type, None, expression)

    def convert_task(self, name: str, task: dict, scope: Scope) -> None:
        component = self.components[task["componentRef"]["name"]]
        for key in sorted(set(task) - KNOWN_TASK_KEYS):
            self.warn(f"task {name!r}: IR field {key!r} is not carried over to the Argo target")
        for key in sorted(set(component) - KNOWN_COMPONENT_KEYS):
            self.warn(f"task {name!r}: component field {key!r} is not carried over to the Argo target")
        values = self.task_inputs(task, component, scope, name)
        depends = set(scope.depends) | {v.producer for v in values.values() if v.producer}
        for upstream in task.get("dependentTasks", []):
            depends |= scope.leaves.get(upstream, set())
        conditions = list(scope.conditions)
        trigger = task.get("triggerPolicy", {})
        if trigger.get("strategy") not in (None, "ALL_UPSTREAM_TASKS_SUCCEEDED"):
            raise UnsupportedFeature(f"task {name!r}: trigger strategy {trigger['strategy']} (dsl.ExitHandler) is "
                                     "not supported by the Argo target.")
        if trigger.get("condition"):
            conditions.append(self.when(trigger["condition"], values, name))
        if "artifactIterator" in task:
            raise UnsupportedFeature(f"task {name!r}: ParallelFor over artifacts is not supported by the Argo target.")
        if "parameterIterator" in task:
            self.convert_loop(name, task, component, values, conditions, depends, scope)
        elif "dag" in component:
            child = Scope(resolve_input=lambda n, sel, v=values, c=name: _lookup(v, n, sel, c), conditions=conditions,
                          depends=depends, tasks=scope.tasks)
            scope.outputs[name] = self.convert_dag(task["componentRef"]["name"], child)
            scope.leaves[name] = set().union(*child.leaves.values()) if child.leaves else set()
        else:
            self.convert_container_task(name, task, component, values, conditions, depends, scope)

    def dag_task(self, name: str, template: str, arguments: dict[str, str], depends: set[str],
                 conditions: list[str], **extra):
        from hera.workflows import models as m

        parameters = [m.Parameter(name=k, value=v) for k, v in arguments.items()]
        return m.DAGTask(
            name=name,
            template=template,
            arguments=m.Arguments(parameters=parameters) if parameters else None,
            depends=" && ".join(sorted(depends)) or None,
            when=" && ".join(f"({c})" if len(conditions) > 1 else c for c in conditions) or None,
            **extra,
        )

    def convert_container_task(self, name, task, component, values, conditions, depends, scope) -> None:
        argo_name = self.unique(name, self.task_names)
        # The run's own identity (dsl.PIPELINE_JOB_NAME_PLACEHOLDER and friends) stays out of the
        # memoize key, as in kfp.local: a rerun on the same inputs reuses register's result instead
        # of registering a duplicate version.
        per_run = {k for k, v in values.items() if RUN_IDENTITY.search(v.text)}
        template = self.container_template(argo_name, name, task, component, per_run)
        self.templates.append(template)
        scope.tasks.append(self.dag_task(argo_name, template.name, {k: v.text for k, v in values.items()},
                                         depends, conditions))
        outputs = component.get("outputDefinitions", {})
        scope.outputs[name] = {}
        for group in ("parameters", "artifacts"):
            for output_name, definition in outputs.get(group, {}).items():
                kfp_type = definition.get("parameterType", "STRING") if group == "parameters" else "artifact"
                scope.outputs[name][output_name] = Value(
                    f"{{{{tasks.{argo_name}.outputs.parameters.{output_name}}}}}", kfp_type, argo_name,
                    f"tasks['{argo_name}']?.outputs?.parameters?.{output_name}",
                )
        scope.leaves[name] = {argo_name}

    def convert_loop(self, name, task, component, values, conditions, depends, scope) -> None:
        from hera.workflows import models as m

        iterator = task["parameterIterator"]
        item_input = iterator["itemInput"]
        if component.get("outputDefinitions"):
            raise UnsupportedFeature(f"loop {name!r} has outputs (dsl.Collected), which the Argo target does not support.")
        body_name = self.unique(name, self.template_names)
        used: dict[str, str] = {}  # body input -> what the loop task passes

        def body_input(input_name: str, selector: str | None = None) -> Value:
            kfp_type = component.get("inputDefinitions", {}).get("parameters", {}).get(input_name, {}).get(
                "parameterType", "artifact")
            if input_name == item_input:
                if selector is None:
                    used[input_name] = "{{item}}"
                else:
                    match = re.fullmatch(r'parseJson\(string_value\)\["([A-Za-z0-9_]+)"\]', selector)
                    if not match:
                        raise UnsupportedFeature(f"loop {name!r}: the item selector {selector!r} is not supported.")
                    input_name = f"{item_input}-{match.group(1)}"
                    used[input_name] = f"{{{{item.{match.group(1)}}}}}"
                    kfp_type = "STRING"
            else:
                if selector:
                    raise UnsupportedFeature(f"loop {name!r}: selector {selector!r} on {input_name!r} is not supported.")
                if input_name not in values:
                    raise UnsupportedFeature(f"loop {name!r} body reads {input_name!r}, which the loop does not receive.")
                used[input_name] = values[input_name].text
                kfp_type = values[input_name].kfp_type
            return Value(f"{{{{inputs.parameters.{input_name}}}}}", kfp_type)

        body = Scope(resolve_input=body_input, conditions=[], depends=set(), tasks=[])
        self.convert_dag(task["componentRef"]["name"], body)
        self.templates.append(m.Template(
            name=body_name,
            inputs=m.Inputs(parameters=[m.Parameter(name=n) for n in sorted(used)]) if used else None,
            dag=m.DAGTemplate(tasks=body.tasks),
        ))
        items = iterator["items"]
        loop = {}
        if "raw" in items:
            loop["with_items"] = [m.Item(_integral_floats_as_ints(i)) for i in json.loads(items["raw"])]
        else:
            source = values[items["inputParameter"]]
            loop["with_param"] = source.text
            if source.producer:
                depends = depends | {source.producer}
        producers = {v.producer for k, v in values.items() if k in used and v.producer}
        depends = depends | producers
        arguments = {n: used[n] for n in sorted(used)}
        argo_name = self.unique(name, self.task_names)
        parallelism = task.get("iteratorPolicy", {}).get("parallelismLimit")
        if not parallelism:
            scope.tasks.append(self.dag_task(argo_name, body_name, arguments, depends, conditions, **loop))
        else:
            # Argo limits parallelism per template, so the loop gets a template of its own whose
            # only task fans out: at most `parallelism` iterations run at once.
            driver_name = self.unique(f"{name}-loop", self.template_names)
            outer = {n: v for n, v in arguments.items() if "{{item" not in v}
            inner = {n: (v if "{{item" in v else f"{{{{inputs.parameters.{n}}}}}") for n, v in arguments.items()}
            if "with_param" in loop and "{{workflow." not in loop["with_param"]:
                outer["loop-items"] = loop["with_param"]
                loop["with_param"] = "{{inputs.parameters.loop-items}}"
            self.templates.append(m.Template(
                name=driver_name, parallelism=int(parallelism),
                inputs=m.Inputs(parameters=[m.Parameter(name=n) for n in sorted(outer)]) if outer else None,
                dag=m.DAGTemplate(tasks=[self.dag_task("iteration", body_name, inner, set(), [], **loop)]),
            ))
            scope.tasks.append(self.dag_task(argo_name, driver_name, outer, depends, conditions))
        scope.leaves[name] = {argo_name}
        scope.outputs[name] = {}

    # -- container templates ------------------------------------------------------------------------
    def container_template(self, argo_name: str, ir_name: str, task: dict, component: dict, per_run: set[str]):
        from hera.workflows import models as m

        executor_label = component["executorLabel"]
        executor = self.executors[executor_label]
        if "container" not in executor:
            kind = next(iter(executor), "unknown")
            raise UnsupportedFeature(f"task {ir_name!r}: executor kind {kind!r} (e.g. dsl.importer) is not supported "
                                     "by the Argo target.")
        container = executor["container"]
        for key in sorted(set(container) - KNOWN_CONTAINER_KEYS):
            self.warn(f"task {ir_name!r}: container field {key!r} (e.g. lifecycle hooks) is not carried over")
        source, function = _lightweight_source(container, ir_name)
        image = self.options.image if is_project_image(container.get("image", "")) else container.get("image", "")
        inputs = component.get("inputDefinitions", {})
        outputs = component.get("outputDefinitions", {})
        args = [f"--function={function}",
                f"--artifact-root={{{{workflow.parameters.{ARTIFACT_ROOT_PARAMETER}}}}}/{{{{workflow.name}}}}/{{{{pod.name}}}}",
                f"--outputs-dir={OUTPUTS_DIR}"]
        input_names = []
        for input_name, definition in sorted(inputs.get("parameters", {}).items()):
            args.append(f"--input-parameter={input_name}:{definition['parameterType']}={{{{inputs.parameters.{input_name}}}}}")
            input_names.append(input_name)
        for input_name, definition in sorted(inputs.get("artifacts", {}).items()):
            args.append(f"--input-artifact={input_name}:{definition['artifactType']['schemaTitle']}"
                        f"={{{{inputs.parameters.{input_name}}}}}")
            input_names.append(input_name)
        output_names = []
        for output_name, definition in sorted(outputs.get("parameters", {}).items()):
            args.append(f"--output-parameter={output_name}:{definition['parameterType']}")
            output_names.append(output_name)
        for output_name, definition in sorted(outputs.get("artifacts", {}).items()):
            args.append(f"--output-artifact={output_name}:{definition['artifactType']['schemaTitle']}")
            output_names.append(output_name)

        platform = self.platform_executors.get(executor_label, {})
        env = self.environment(container, platform, ir_name)
        security = m.SecurityContext(allow_privilege_escalation=False, read_only_root_filesystem=True,
                                     run_as_non_root=True, capabilities=m.Capabilities(drop=["ALL"]))
        common = dict(image=image, command=LAUNCHER_COMMAND, resources=self.resources(container, ir_name), env=env,
                      security_context=security, volume_mounts=[m.VolumeMount(name="tmp", mount_path="/tmp")],
                      image_pull_policy=platform.get("imagePullPolicy"))
        if "{{" in source:
            # Argo substitutes {{...}} in a script's source; such code travels base64-encoded instead.
            import base64

            args.append("--source-b64=" + base64.b64encode(source.encode()).decode())
            body = {"container": m.Container(args=args, **common)}
        else:
            body = {"script": m.ScriptTemplate(args=args, source=source, **common)}
        labels = {"portway.dev/run": "{{workflow.name}}", "portway.dev/step": ir_name[:63]}
        labels.update(platform.get("podMetadata", {}).get("labels", {}))
        annotations = platform.get("podMetadata", {}).get("annotations") or None
        self.platform_warnings(platform, ir_name)
        return m.Template(
            name=self.unique(argo_name, self.template_names),
            inputs=m.Inputs(parameters=[m.Parameter(name=n) for n in input_names]) if input_names else None,
            outputs=m.Outputs(parameters=[
                m.Parameter(name=n, value_from=m.ValueFrom(path=f"{OUTPUTS_DIR}/{n}")) for n in output_names
            ]) if output_names else None,
            metadata=m.Metadata(labels=labels, annotations=annotations),
            node_selector=platform.get("nodeSelector", {}).get("labels") or None,
            tolerations=[self.toleration(t, ir_name) for t in platform.get("tolerations", [])] or None,
            active_deadline_seconds=platform.get("activeDeadlineSeconds"),
            retry_strategy=self.retry_strategy(task.get("retryPolicy"), ir_name),
            memoize=self.memoize(task, executor, image, [n for n in input_names if n not in per_run], argo_name),
            **body,
        )

    def memoize(self, task: dict, executor: dict, image: str, input_names: list[str], argo_name: str):
        from hera.workflows import models as m

        caching = task.get("cachingOptions", {})
        if not caching.get("enableCache"):
            return None
        # The code is the executor without its image (the image is a key item of its own).
        container = {k: v for k, v in executor.get("container", {}).items() if k != "image"}
        code = hashlib.sha256(json.dumps(container, sort_keys=True).encode()).hexdigest()[:12]
        items = [f"'{code}'", f"'{image}'"] + [f"inputs.parameters['{n}']" for n in input_names]
        if caching.get("cacheKey"):
            items.append(json.dumps(caching["cacheKey"]).replace('"', "'"))
        # Argo checks memoize keys against ^[a-zA-Z0-9][-a-zA-Z0-9]*$ (ConfigMap-backed cache, keys
        # up to 253 characters), so the inputs, which hold URIs and JSON, are hashed: the key is
        # <template>-<sha256 of [code, image, inputs...]>, 64 hex characters after the name.
        expression = "sprig.sha256sum(toJson([" + ", ".join(items) + "]))"
        return m.Memoize(key=f"{argo_name[:100]}-{{{{={expression}}}}}", max_age=self.options.cache_max_age,
                         cache=m.Cache(config_map=m.LocalObjectReference(name=self.options.cache_configmap)))

    def retry_strategy(self, policy: dict | None, ir_name: str):
        from hera.workflows import models as m

        if not policy or not policy.get("maxRetryCount"):
            return None
        factor = policy.get("backoffFactor")
        if factor is not None and float(factor) != int(factor):
            self.warn(f"task {ir_name!r}: Argo's backoff factor is an integer; {factor} becomes {round(factor)}")
        backoff = m.Backoff(
            duration=policy.get("backoffDuration"),
            factor=m.IntOrString(round(factor)) if factor is not None else None,
            # KFP's backoff_max_duration ("during which the task is retried") is Argo's maxDuration.
            max_duration=policy.get("backoffMaxDuration"),
        )
        # KFP retries every failure; "Always" also covers errors such as a spot GPU node reclaimed.
        return m.RetryStrategy(limit=m.IntOrString(int(policy["maxRetryCount"])), retry_policy="Always",
                               backoff=backoff)

    def resources(self, container: dict, ir_name: str):
        from hera.workflows import models as m

        spec = container.get("resources", {})
        requests = {"cpu": spec.get("resourceCpuRequest"), "memory": spec.get("resourceMemoryRequest")}
        limits = {"cpu": spec.get("resourceCpuLimit"), "memory": spec.get("resourceMemoryLimit")}
        if not all(requests.values()):
            fallback = DEFAULT_RESOURCES.get(ir_name, FALLBACK_RESOURCES)
            self.warn(f"task {ir_name!r} sets no CPU/memory request in the IR; the Argo template requests "
                      f"cpu={fallback.cpu} memory={fallback.memory}")
            requests = {"cpu": requests["cpu"] or fallback.cpu, "memory": requests["memory"] or fallback.memory}
            limits = {"cpu": limits["cpu"] or fallback.limits[0], "memory": limits["memory"] or fallback.limits[1]}
        accelerator = spec.get("accelerator", {})
        if accelerator:
            kind = accelerator.get("resourceType") or accelerator.get("type")
            count = accelerator.get("resourceCount") or accelerator.get("count")
            if not kind or "/" not in kind:
                self.warn(f"task {ir_name!r}: accelerator type {kind!r} is not a Kubernetes resource name "
                          "(such as nvidia.com/gpu); no GPU limit is set")
            else:
                # Extended resources (GPUs) are requested through limits; requests default to them.
                limits[kind] = str(count)
        return m.ResourceRequirements(
            requests={k: m.Quantity(v) for k, v in requests.items() if v},
            limits={k: m.Quantity(v) for k, v in limits.items() if v},
        )

    def environment(self, container: dict, platform: dict, ir_name: str) -> list:
        from hera.workflows import models as m

        env = [m.EnvVar(name="HOME", value="/tmp"), m.EnvVar(name="PYTHONUNBUFFERED", value="1")]
        env += [m.EnvVar(name=e["name"], value=e.get("value", "")) for e in container.get("env", [])]
        for item in platform.get("secretAsEnv", []):
            if not item.get("secretName"):
                self.warn(f"task {ir_name!r}: a secret named by a pipeline parameter is not carried over")
                continue
            for mapping in item.get("keyToEnv", []):
                env.append(m.EnvVar(name=mapping["envVar"], value_from=m.EnvVarSource(secret_key_ref=m.SecretKeySelector(
                    name=item["secretName"], key=mapping["secretKey"], optional=item.get("optional")))))
        for item in platform.get("configMapAsEnv", []):
            if not item.get("configMapName"):
                self.warn(f"task {ir_name!r}: a ConfigMap named by a pipeline parameter is not carried over")
                continue
            for mapping in item.get("keyToEnv", []):
                env.append(m.EnvVar(name=mapping["envVar"], value_from=m.EnvVarSource(
                    config_map_key_ref=m.ConfigMapKeySelector(name=item["configMapName"], key=mapping["configMapKey"],
                                                              optional=item.get("optional")))))
        for secret in platform.get("imagePullSecret", []):
            self.image_pull_secrets.add(secret.get("secretName", ""))
        if self.options.s3_endpoint:
            env.append(m.EnvVar(name="AWS_ENDPOINT_URL", value=self.options.s3_endpoint))
        if self.options.s3_secret:
            # Static keys from a Secret (MinIO on kind); on EKS the pod's service account (IRSA) is used instead.
            for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                env.append(m.EnvVar(name=variable, value_from=m.EnvVarSource(
                    secret_key_ref=m.SecretKeySelector(name=self.options.s3_secret, key=variable))))
        return env

    def toleration(self, spec: dict, ir_name: str):
        from hera.workflows import models as m

        if spec.get("tolerationJson"):
            self.warn(f"task {ir_name!r}: a toleration given as a pipeline parameter (tolerationJson) is not carried over")
        return m.Toleration(key=spec.get("key"), operator=spec.get("operator"), value=spec.get("value"),
                            effect=spec.get("effect"), toleration_seconds=spec.get("tolerationSeconds"))

    def platform_warnings(self, platform: dict, ir_name: str) -> None:
        for key in sorted(set(platform) - SUPPORTED_PLATFORM_KEYS):
            self.warn(f"task {ir_name!r}: kfp-kubernetes setting {key!r} is not carried over to the Argo target")

    # -- the workflow ---------------------------------------------------------------------------------
    def convert(self) -> dict:
        from hera.workflows import models as m

        root = self.spec["root"]
        pipeline_name = self.spec["pipelineInfo"]["name"]
        definitions = root.get("inputDefinitions", {})
        if definitions.get("artifacts"):
            raise UnsupportedFeature(f"pipeline inputs {sorted(definitions['artifacts'])} are artifacts; the Argo "
                                     "target takes parameters only.")
        parameter_types = {n: d["parameterType"] for n, d in definitions.get("parameters", {}).items()}
        unknown = sorted(set(self.options.parameters) - set(parameter_types))
        if unknown:
            raise ParameterError(f"--param {unknown[0]} is not a parameter of {pipeline_name}; it takes: "
                                 f"{', '.join(sorted(parameter_types))}.")

        def root_input(name: str, selector: str | None) -> Value:
            if selector:
                raise UnsupportedFeature(f"the selector {selector!r} is only supported on a ParallelFor item.")
            return Value(f"{{{{workflow.parameters.{name}}}}}", parameter_types.get(name, "artifact"))

        entry = self.unique(pipeline_name, self.template_names)
        scope = Scope(resolve_input=root_input, conditions=[], depends=set(), tasks=[])
        outputs = self.convert_dag_root(scope)
        entry_outputs = []
        for output_name, value in outputs.items():
            if value.text.startswith("{{=") and value.expr:
                value_from = m.ValueFrom(expression=value.expr)
            else:
                value_from = m.ValueFrom(parameter=value.text)
            entry_outputs.append(m.Parameter(name=output_name, value_from=value_from))
        self.templates.insert(0, m.Template(name=entry, dag=m.DAGTemplate(tasks=scope.tasks),
                                            outputs=m.Outputs(parameters=entry_outputs) if entry_outputs else None))
        arguments = []
        for name, definition in sorted(definitions.get("parameters", {}).items()):
            if name in self.options.parameters:
                value = self.options.parameters[name]
            else:
                value = definition.get("defaultValue")
            arguments.append(m.Parameter(
                name=name,
                value=None if value is None else render_parameter(value, definition["parameterType"]),
                description=f"KFP {definition['parameterType']}" + ("" if "defaultValue" in definition or
                                                                     name in self.options.parameters else ", required"),
            ))
        arguments.append(m.Parameter(name=ARTIFACT_ROOT_PARAMETER, value=self.options.artifact_root,
                                     description="s3://bucket/prefix under which each run writes its artifacts"))
        return self.workflow(pipeline_name, entry, arguments)

    def convert_dag_root(self, scope: Scope) -> dict[str, Value]:
        root = self.spec["root"]
        self.components["__root__"] = root
        try:
            return self.convert_dag("__root__", scope)
        finally:
            del self.components["__root__"]

    def workflow(self, pipeline_name: str, entry: str, arguments: list) -> dict:
        from hera.workflows import CronWorkflow, Workflow, WorkflowTemplate
        from hera.workflows import models as m

        options = self.options
        labels = {"portway.dev/pipeline": pipeline_name[:63], "portway.dev/team": options.team}
        spec = dict(
            namespace=options.namespace,
            labels=labels,
            entrypoint=entry,
            templates=self.templates,
            arguments=arguments,
            service_account_name=options.service_account,
            active_deadline_seconds=options.active_deadline_seconds,
            ttl_strategy=m.TTLStrategy(seconds_after_success=options.ttl_after_success_seconds,
                                       seconds_after_failure=options.ttl_after_failure_seconds),
            # Failed pods stay for `kubectl logs` until the workflow's TTL removes them.
            pod_gc=m.PodGC(strategy="OnPodSuccess"),
            pod_metadata=m.Metadata(labels=labels),
            # A label value is at most 63 characters; generated workflow names stay well under it.
            workflow_metadata=m.WorkflowMetadata(labels=labels, labels_from={
                "portway.dev/run": m.LabelValueFrom(expression="workflow.name")}),
            security_context=m.PodSecurityContext(run_as_non_root=True, run_as_user=RUN_AS_USER, run_as_group=RUN_AS_USER,
                                                  fs_group=RUN_AS_USER,
                                                  seccomp_profile=m.SeccompProfile(type="RuntimeDefault")),
            volumes=[m.Volume(name="tmp", empty_dir=m.EmptyDirVolumeSource())],
            image_pull_secrets=[m.LocalObjectReference(name=s) for s in sorted(self.image_pull_secrets) if s] or None,
        )
        if options.kind == "Workflow":
            document = Workflow(generate_name=f"{options.name or pipeline_name}-", **spec)
        elif options.kind == "WorkflowTemplate":
            document = WorkflowTemplate(name=options.name or pipeline_name, **spec)
        else:
            document = CronWorkflow(name=options.name or pipeline_name, schedules=[options.schedule],
                                    timezone=options.timezone, concurrency_policy="Forbid",
                                    starting_deadline_seconds=600, **spec)
        return _drop_nulls(document.to_dict())


def _lookup(values: dict[str, Value], name: str, selector: str | None, consumer: str) -> Value:
    if selector:
        raise UnsupportedFeature(f"{consumer!r}: the selector {selector!r} is only supported on a ParallelFor item.")
    if name not in values:
        raise UnsupportedFeature(f"{consumer!r} reads {name!r}, which it does not receive.")
    return values[name]


def _lightweight_source(container: dict, ir_name: str) -> tuple[str, str]:
    """(Python source, function name) of a KFP lightweight component's executor."""
    command, args = container.get("command", []), container.get("args", [])
    if (len(command) == 4 and command[0] == "sh" and "ephemeral_component.py" in command[2]
            and "--function_to_execute" in args):
        return command[3], args[args.index("--function_to_execute") + 1]
    raise UnsupportedFeature(
        f"task {ir_name!r} is not a Python function component (its command is {command[:2]}...); the Argo target "
        "runs @dsl.component functions only."
    )


def _drop_nulls(value):
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def check_size(document: dict) -> int:
    """The document's JSON size; refuses one that etcd (and so the Argo server) would reject."""
    size = len(json.dumps(document, separators=(",", ":")).encode())
    if size > MAX_DOCUMENT_BYTES:
        raise ParameterError(
            f"the Argo {document.get('kind')} is {size / 1024:.0f} KiB; Kubernetes stores objects up to about "
            f"{MAX_DOCUMENT_BYTES // 1024} KiB (etcd), with the run's status in the same object. Pass large values "
            "(candidate lists, configurations) as files or URIs instead of parameters."
        )
    return size


def convert_ir(compiled: dict, options: ArgoOptions | None = None) -> tuple[dict, list[str]]:
    """(Argo document, warnings) for compiled KFP IR (compile_kfp's result)."""
    options = options or ArgoOptions()
    options.check()
    converter = Converter(compiled, options)
    document = converter.convert()
    return document, converter.warnings


def compile_argo(pipeline, options: ArgoOptions | None = None) -> dict:
    """The pipeline as an Argo document; each setting not carried over is an ArgoTargetWarning."""
    from portway.compile.kfp_target import compile_kfp

    options = options or ArgoOptions()
    options.check()
    document, notes = convert_ir(compile_kfp(pipeline, image=options.image), options)
    for note in notes:
        warnings.warn(ArgoTargetWarning(note), stacklevel=2)
    return document
