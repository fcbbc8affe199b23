"""Reading the KFP IR (PipelineSpec + PlatformSpec): every lookup names what is missing in one line.

kfp.compiler writes the IR (api/v2alpha1/pipeline_spec.proto in kubeflow/pipelines); a file that
was edited by hand or written by another tool may lack a field, and the user gets
"pipeline IR: <where>: <field> is missing" instead of a KeyError.
"""

from __future__ import annotations

from portway.errors import ParameterError, PortwayError


class MalformedIR(ParameterError):
    """The IR lacks a field or holds a value of the wrong shape."""


class UnsupportedFeature(PortwayError):
    """The IR uses something the Argo target cannot run as KFP would."""


class ArgoTargetWarning(UserWarning):
    """A KFP setting the Argo target does not carry over (named, never silently dropped)."""


def need(mapping, key: str, where: str, kind: type | tuple = (dict, list, str, int, float, bool)):
    """mapping[key], checked to exist and to be of `kind`."""
    if not isinstance(mapping, dict):
        raise MalformedIR(f"pipeline IR: {where} is a {type(mapping).__name__}, expected a mapping.")
    if key not in mapping:
        raise MalformedIR(f"pipeline IR: {where}: the field {key!r} is missing.")
    value = mapping[key]
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise MalformedIR(f"pipeline IR: {where}.{key} is a {type(value).__name__}, expected {expected}.")
    return value


class IR:
    """The compiled pipeline: its components, executors and Kubernetes platform settings."""

    def __init__(self, compiled: dict):
        if not isinstance(compiled, dict):
            raise MalformedIR(f"pipeline IR: expected a mapping, got {type(compiled).__name__}.")
        self.spec = need(compiled, "pipeline_spec", "document", dict)
        self.root = need(self.spec, "root", "pipelineSpec", dict)
        self.name = need(need(self.spec, "pipelineInfo", "pipelineSpec", dict), "name", "pipelineInfo", str)
        self.components = self.spec.get("components", {})
        self.executors = self.spec.get("deploymentSpec", {}).get("executors", {})
        platforms = (compiled.get("platform_spec") or {}).get("platforms", {})
        self.kubernetes = platforms.get("kubernetes", {})
        self.other_platforms = sorted(set(platforms) - {"kubernetes"})
        self.platform_executors = self.kubernetes.get("deploymentSpec", {}).get("executors", {})

    def component(self, task: dict, task_name: str) -> tuple[str, dict]:
        ref = need(need(task, "componentRef", f"task {task_name!r}", dict), "name", f"task {task_name!r}.componentRef", str)
        if ref not in self.components:
            raise MalformedIR(f"pipeline IR: task {task_name!r} uses component {ref!r}, which components does not define.")
        return ref, self.components[ref]

    def executor(self, component: dict, task_name: str) -> tuple[str, dict]:
        label = need(component, "executorLabel", f"component of task {task_name!r}", str)
        if label not in self.executors:
            raise MalformedIR(f"pipeline IR: task {task_name!r} uses executor {label!r}, which deploymentSpec.executors "
                              "does not define.")
        return label, self.executors[label]

    def dag_tasks(self, component: dict, where: str) -> dict:
        return need(need(component, "dag", where, dict), "tasks", f"{where}.dag", dict)


def topological(tasks: dict, where: str) -> list[str]:
    """IR task names, producers before consumers (ties by name, so the output is stable)."""
    needs = {}
    for name, task in tasks.items():
        upstream = set(task.get("dependentTasks", []))
        for group in ("parameters", "artifacts"):
            for spec in task.get("inputs", {}).get(group, {}).values():
                for key in ("taskOutputParameter", "taskOutputArtifact"):
                    if key in spec:
                        upstream.add(need(spec[key], "producerTask", f"task {name!r} input", str))
        unknown = sorted(upstream - set(tasks))
        if unknown:
            raise MalformedIR(f"pipeline IR: {where}: task {name!r} depends on {unknown[0]!r}, which is not a task there.")
        needs[name] = upstream
    order, done = [], set()
    while len(order) < len(tasks):
        ready = sorted(n for n in tasks if n not in done and needs[n] <= done)
        if not ready:
            raise MalformedIR(f"pipeline IR: {where}: the tasks {sorted(set(tasks) - done)} depend on each other in a cycle.")
        order += ready
        done.update(ready)
    return order
