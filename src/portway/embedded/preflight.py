"""Before a local run starts: the pipeline's parameters, typed, and its components' own checks.

Nothing here knows the bundled pipeline: parameter names and types come from the pipeline's
compiled interface (`root.inputDefinitions`), and the checks from the components it uses
that declare one (`component.portway_check`, see portway.steps.preflight).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portway.errors import ParameterError

_UNKNOWN = object()


@dataclass(frozen=True)
class Declared:
    name: str
    kind: str  # the IR parameterType: STRING, NUMBER_INTEGER, NUMBER_DOUBLE, BOOLEAN, LIST, STRUCT
    default: Any = _UNKNOWN

    @property
    def required(self) -> bool:
        return self.default is _UNKNOWN


def pipeline_spec(pipeline) -> dict:
    from google.protobuf import json_format

    return json_format.MessageToDict(pipeline.pipeline_spec)


def declared_parameters(spec: dict) -> dict[str, Declared]:
    declared = {}
    for name, item in spec["root"].get("inputDefinitions", {}).get("parameters", {}).items():
        kind = item.get("parameterType", "STRING")
        default = typed_value(name, kind, item["defaultValue"]) if "defaultValue" in item else _UNKNOWN
        declared[name] = Declared(name, kind, default)
    return declared


def typed_value(name: str, kind: str, value):
    """`value` as the declared IR type: strings through the one typed-value conversion
    (portway.compile.argo.values, shared with compile and submit), others checked."""
    from portway.compile.argo.values import parse_parameter

    if isinstance(value, str) and kind != "STRING":
        return parse_parameter(name, kind, value)
    if kind == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf's Struct has only doubles
    if kind == "NUMBER_DOUBLE" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    expected = {"STRING": str, "NUMBER_INTEGER": int, "NUMBER_DOUBLE": float, "BOOLEAN": bool,
                "LIST": list, "STRUCT": dict}.get(kind)
    if expected is None or not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ParameterError(f"parameter {name} is declared {kind} but got {value!r}.")
    return value


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`--param NAME=VALUE` strings as {NAME: VALUE} (the value is typed later, by the pipeline)."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param {pair!r} is not understood; expected NAME=VALUE.")
        values[name.strip()] = value
    return values


def typed_parameters(spec: dict, values: dict) -> dict:
    """The pipeline's defaults overlaid with `values`, each as its declared type; refuses an
    unknown name and a required parameter without a value, naming the pipeline's parameters."""
    declared = declared_parameters(spec)
    name = spec["pipelineInfo"]["name"]
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ParameterError(f"pipeline {name} has no parameter {', '.join(unknown)}; it takes: "
                             f"{', '.join(sorted(declared)) or 'none'}.")
    typed = {n: d.default for n, d in declared.items() if not d.required}
    typed.update({n: typed_value(n, declared[n].kind, v) for n, v in values.items()})
    missing = [f"{n} ({d.kind})" for n, d in declared.items() if n not in typed]
    if missing:
        raise ParameterError(f"pipeline {name} needs a value for {', '.join(missing)}; "
                             "pass --param NAME=VALUE.")
    return typed


# -- component checks ------------------------------------------------------------------

def _executor_command(spec: dict, component: dict) -> list[str] | None:
    executor = spec.get("deploymentSpec", {}).get("executors", {}).get(component.get("executorLabel", ""), {})
    container = executor.get("container")
    return None if container is None else [*container.get("command", []), *container.get("args", [])]


def declared_checks(pipeline) -> dict[tuple, str]:
    """{command+args of a component: its check} for the components the pipeline's code can see:
    its module's globals, the attributes of modules imported there (`components.process`), and
    the same for a nested pipeline's module.

    A component is recognised by its exact command (its code is in it), so a user's own
    component that happens to share a bundled one's name is never checked as that one."""
    import types

    from kfp.dsl.base_component import BaseComponent
    from kfp.dsl.graph_component import GraphComponent

    checks, seen_modules, pending = {}, set(), [pipeline]
    while pending:
        func = getattr(pending.pop(), "pipeline_func", None)
        if func is None or id(func.__globals__) in seen_modules:
            continue
        seen_modules.add(id(func.__globals__))
        values = list(func.__globals__.values())
        values += [v for m in values if isinstance(m, types.ModuleType) for v in list(vars(m).values())]
        for value in values:
            if not isinstance(value, BaseComponent):  # never getattr on anything else: it may have side effects
                continue
            if isinstance(value, GraphComponent):
                pending.append(value)  # a nested pipeline: its components live in its own module
            check = getattr(value, "portway_check", None)
            container = value.component_spec.implementation.container
            if isinstance(check, str) and container is not None:
                checks[tuple([*container.command, *(str(a) for a in container.args or [])])] = check
    return checks


def _resolve(reference: str):
    import importlib

    module, _, function = reference.partition(":")
    return getattr(importlib.import_module(module), function)


def _task_inputs(task: dict, component: dict, scope: dict) -> dict:
    kinds = {n: p.get("parameterType", "STRING")
             for n, p in component.get("inputDefinitions", {}).get("parameters", {}).items()}
    known = {}
    for name, source in task.get("inputs", {}).get("parameters", {}).items():
        if "componentInputParameter" in source:
            value = scope.get(source["componentInputParameter"], _UNKNOWN)
        elif "constant" in source.get("runtimeValue", {}):
            value = source["runtimeValue"]["constant"]
        else:
            continue  # another task's output: known only when the run gets there
        if value is not _UNKNOWN:
            known[name] = typed_value(name, kinds.get(name, "STRING"), value) if name in kinds else value
    return known


def run_component_checks(pipeline, spec: dict, parameters: dict) -> list[str]:
    """Call every declared check with the inputs known before the run; returns the tasks checked."""
    checks = declared_checks(pipeline)
    checked = []

    def walk(dag: dict, scope: dict, path: str) -> None:
        for task_name, task in dag.get("tasks", {}).items():
            component = spec["components"].get(task["componentRef"]["name"], {})
            inputs = _task_inputs(task, component, scope)
            if "dag" in component:
                walk(component["dag"], inputs, f"{path}{task_name}/")
                continue
            command = _executor_command(spec, component)
            check = checks.get(tuple(command)) if command is not None else None
            if check is not None:
                _resolve(check)(**inputs)
                checked.append(path + task_name)

    walk(spec["root"].get("dag", {}), parameters, "")
    return checked
