"""How a container template reads its inputs: a value passed in, or picked out of an upstream step's output.

An input that is one output of an upstream step (a value a Python component returned, an output
artifact) lives inside that step's `executor-output` parameter (KFP's executor_output.json). Picking
it out in the DAG task's argument costs an expression of ~150 bytes per argument
(`toJson(jsonpath(tasks["x"].outputs.parameters["executor-output"], "$.artifacts.out.artifacts[0]"))`),
which left a 1,000-task pipeline at 60% of etcd's limit. So the DAG passes the whole executor output
with a simple tag (`{{tasks.x.outputs.parameters.executor-output}}`) and the template picks the value
out with the JSON path held in a companion input, `<input>-from`, whose default is the path this
template was built for; a task that shares the template (sharing.py) passes its own path only when
it differs. Argo substitutes expression tags anywhere in a template, input artifact keys included,
with `inputs.parameters` in scope (workflow/common/util.go substituteParams, util/template
expression_template.go).

Each value comes out in its Argo string form (refs.py): text for a STRING, JSON for anything else.
"""

from __future__ import annotations

from portway.compile.argo.refs import Pick, index, tag

SELECTOR_SUFFIX = "-from"  # KFP input names are identifiers, so `<input>-from` never clashes with one

__all__ = ["Pick", "arguments", "declared", "is_selector_parameter", "selector_parameter", "value_expr", "value_tag"]


def selector_parameter(name: str) -> str:
    return name + SELECTOR_SUFFIX


def is_selector_parameter(name: str) -> bool:
    return name.endswith(SELECTOR_SUFFIX)


def value_expr(name: str, pick: Pick | None) -> str:
    """The input's Argo string form, as an expression inside its template."""
    raw = f"inputs.parameters{index(name)}"
    if pick is None:
        return raw
    found = f"jsonpath({raw}, inputs.parameters{index(selector_parameter(name))})"
    return f"toJson({found})" if pick.as_json else found


def value_tag(name: str, pick: Pick | None) -> str:
    """The input's Argo string form, as template text."""
    return f"{{{{inputs.parameters.{name}}}}}" if pick is None else tag(value_expr(name, pick))


def declared(name: str, pick: Pick | None) -> list[dict]:
    """The template's input parameters for one input."""
    if pick is None:
        return [{"name": name}]
    return [{"name": name}, {"name": selector_parameter(name), "default": pick.path}]


def arguments(name: str, value: str, pick: Pick | None) -> list[dict]:
    """The DAG task's arguments for one input (the path is the template's default, so it is not passed)."""
    return [{"name": name, "value": pick.argument() if pick else value}]
