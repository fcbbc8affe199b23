"""How a value reaches a task: one Ref per input, written in Argo's expression language.

Every Ref's `expr` evaluates to the value's Argo string form (values.py): text for STRING, JSON for
the other parameter types, and for an artifact its runtime JSON {"name", "uri", "metadata"}. Runtime
values are never spliced into expression text: they are read through variables (`inputs.parameters`,
`tasks[...]`), so a quote in a value cannot change an expression (Argo docs/variables.md, "Expression").
An expression must not contain `}}`, which would close Argo's tag early; map literals end with "} ".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

EXECUTOR_OUTPUT = "executor-output"  # the output parameter holding KFP's executor_output.json


def string_literal(text: str) -> str:
    """A string literal in expr-lang; braces escaped so that no `{{`/`}}` appears in the tag."""
    return json.dumps(text, ensure_ascii=False).replace("{", "\\u007b").replace("}", "\\u007d")


def index(name: str) -> str:
    """`['name']` member access (names may hold '-', which expr would read as minus)."""
    return "[" + string_literal(name) + "]"


def tag(expr: str) -> str:
    assert "}}" not in expr, expr
    return "{{=" + expr + "}}"


@dataclass(frozen=True)
class Pick:
    """An input read from `source`'s executor output at the JSON path `path`."""

    source: str  # the upstream Argo task (same DAG)
    path: str  # e.g. $.parameterValues.Output, $.artifacts.model.artifacts[0]
    as_json: bool  # True: the picked value is written as JSON (toJson); False: as text (a STRING)
    carrier: str = ""  # the template input that holds `source`'s output (picks.by_source names it)

    def argument(self) -> str:
        return f"{{{{tasks.{self.source}.outputs.parameters.{EXECUTOR_OUTPUT}}}}}"


@dataclass(frozen=True)
class Ref:
    expr: str
    kfp_type: str  # an IR parameterType, or "artifact"
    producer: str | None = None  # the Argo task (same DAG) that must succeed first
    text: str | None = None  # a plain form (literal or simple `{{...}}` tag) when one exists
    collected_key: str | None = None  # for a list of artifacts (dsl.Collected): the S3 prefix holding them all
    nullable: bool = False  # an optional pipeline input without a default: "" stands for None
    pick: Pick | None = None  # one output of an upstream step: picked out inside the consumer's template (picks.py)

    def argument(self) -> str:
        return self.text if self.text is not None else tag(self.expr)


def constant(value: str, kfp_type: str) -> Ref:
    plain = value if "{{" not in value and "}}" not in value else None
    return Ref(string_literal(value), kfp_type, text=plain)


def workflow_parameter(name: str, kfp_type: str, nullable: bool = False) -> Ref:
    return Ref(f"workflow.parameters{index(name)}", kfp_type, text=f"{{{{workflow.parameters.{name}}}}}",
               nullable=nullable)


def input_parameter(name: str, kfp_type: str, collected_key: str | None = None) -> Ref:
    return Ref(f"inputs.parameters{index(name)}", kfp_type, text=f"{{{{inputs.parameters.{name}}}}}",
               collected_key=collected_key)


def executor_output(task: str) -> str:
    return f"tasks{index(task)}.outputs.parameters{index(EXECUTOR_OUTPUT)}"


def returned_parameter(task: str, output: str, kfp_type: str) -> Ref:
    """A value a Python component returned: KFP's executor writes it into executor_output.json."""
    path = "$.parameterValues." + output
    value = f"jsonpath({executor_output(task)}, {string_literal(path)})"
    as_json = kfp_type != "STRING"
    return Ref(f"toJson({value})" if as_json else value, kfp_type, producer=task, pick=Pick(task, path, as_json))


def file_parameter(task: str, output: str, kfp_type: str) -> Ref:
    """A value the step wrote to its output_file (container components, OutputPath)."""
    return Ref(f"tasks{index(task)}.outputs.parameters{index(output)}", kfp_type, producer=task,
               text=f"{{{{tasks.{task}.outputs.parameters.{output}}}}}")


def either_parameter(task: str, output: str, kfp_type: str) -> Ref:
    """A Python component whose source is in its image: returned (executor output) or written to a file."""
    returned = f"jsonpath({executor_output(task)}, '$')?.parameterValues?.{output}"
    as_string = returned if kfp_type == "STRING" else f"toJson({returned})"
    file = f"tasks{index(task)}.outputs.parameters{index(output)}"
    return Ref(f"({returned} != nil ? {as_string} : {file})", kfp_type, producer=task)


def output_artifact(task: str, output: str) -> Ref:
    path = f"$.artifacts.{output}.artifacts[0]"
    found = f"jsonpath({executor_output(task)}, {string_literal(path)})"
    return Ref(f"toJson({found})", "artifact", producer=task, pick=Pick(task, path, as_json=True))


def artifact_from_uri(uri: Ref, name: str, metadata: dict | None = None) -> Ref:
    """An artifact known by its URI only (a pipeline input, an importer)."""
    meta = _expr_literal(metadata or {})
    return Ref(f"toJson({{'name': {string_literal(name)}, 'uri': {uri.expr}, 'metadata': {meta} }})", "artifact",
               producer=uri.producer)


def iteration_value(ref: Ref) -> str:
    """What one loop iteration reports for dsl.Collected. Argo lists every iteration's output parameter on
    the loop task, keeping objects and lists as JSON but any other value as a JSON string
    (workflow/controller: aggregatedJsonValueList), so a parameter is wrapped as {"v": value} to keep its
    type; an artifact is already an object."""
    if ref.kfp_type in ("artifact", "artifact_list"):
        return ref.expr
    return f"toJson({{'v': {typed(ref)} }})"


def loop_output(loop_task: str, output: str, kfp_type: str, collected_key: str | None = None) -> Ref:
    """A dsl.Collected output: Argo's JSON list of every iteration's value (docs/variables.md, DAG templates:
    `tasks.<TASK>.outputs.parameters.<NAME>` of a looped task)."""
    listed = f"tasks{index(loop_task)}.outputs.parameters{index(output)}"
    if kfp_type == "artifact_list":
        return Ref(listed, kfp_type, producer=loop_task, text=f"{{{{tasks.{loop_task}.outputs.parameters.{output}}}}}",
                   collected_key=collected_key)
    return Ref(f"toJson(jsonpath({listed}, '$[*].v'))", kfp_type, producer=loop_task)


def input_artifact(name: str) -> Ref:
    """Inside a DAG template: an artifact passed in as its JSON parameter."""
    value = f"inputs.parameters{index(name)}"
    return Ref(value, "artifact", text=f"{{{{inputs.parameters.{name}}}}}")


def _expr_literal(value) -> str:
    """A JSON-like value as an expr-lang literal (maps close with "} " so no `}}` appears)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{string_literal(str(k))}: {_expr_literal(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_expr_literal(v) for v in value) + "]"
    if isinstance(value, str):
        return string_literal(value)
    if value is None:
        return "nil"
    return json.dumps(value)


def typed(ref: Ref) -> str:
    """The value as its KFP type inside an expression (conditions, executor input)."""
    return typed_expr(ref.expr, ref.kfp_type)


def typed_expr(expr: str, kfp_type: str) -> str:
    if kfp_type == "STRING":
        return expr
    if kfp_type == "NUMBER_INTEGER":
        return f"asInt({expr})"
    if kfp_type == "NUMBER_DOUBLE":
        return f"asFloat({expr})"
    if kfp_type == "BOOLEAN":
        # "True" (Python's spelling, as a user may pass it to `argo submit -p`) is true too.
        return f"(lower({expr}) == 'true')"
    return f"jsonpath({expr}, '$')"  # LIST, STRUCT, artifact JSON
