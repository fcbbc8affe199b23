"""How a container template reads its inputs: a value passed in, or picked out of an upstream step's output.

An input that is one output of an upstream step (a value a Python component returned, an output
artifact) lives inside that step's `executor-output` parameter (KFP's executor_output.json). Picking
it out in the DAG task's argument costs an expression of ~150 bytes per argument
(`toJson(jsonpath(tasks["x"].outputs.parameters["executor-output"], "$.artifacts.out.artifacts[0]"))`),
which left a 1,000-task pipeline at 60% of etcd's limit. So the DAG passes each upstream's whole
executor output once, with a simple tag (`{{tasks.x.outputs.parameters.executor-output}}`), as the
template input `upstream-<n>`, and the template picks each input out with the JSON path held in a
companion input, `<input>-from`, whose default is the path this template was built for; a task
that shares the template (sharing.py) passes its own path only when it differs. Argo substitutes
expression tags anywhere in a template, input artifact keys included, with `inputs.parameters` in
scope (workflow/common/util.go substituteParams, util/template expression_template.go).

Each value comes out in its Argo string form (refs.py): text for a STRING, JSON for anything else.
"""

from __future__ import annotations

import dataclasses

from portway.compile.argo.refs import Pick, index, tag

SELECTOR_SUFFIX = "-from"  # KFP input names are identifiers (no "-"), so these never clash with one
CARRIER_PREFIX = "upstream-"

__all__ = ["Pick", "by_source", "carrier_arguments", "carriers", "declared", "is_selector_parameter", "selector_parameter", "value_expr", "value_tag"]


def selector_parameter(name: str) -> str:
    return name + SELECTOR_SUFFIX


def is_selector_parameter(name: str) -> bool:
    return name.endswith(SELECTOR_SUFFIX)


def by_source(picked: dict[str, Pick]) -> dict[str, Pick]:
    """Each upstream's output passed once per task: the inputs picked from one upstream share a carrier,
    `upstream-<n>`, numbered in the order of their names (so that tasks of one shape share a template)."""
    carriers: dict[str, str] = {}
    for name in sorted(picked):
        carriers.setdefault(picked[name].source, f"{CARRIER_PREFIX}{len(carriers)}")
    return {name: dataclasses.replace(pick, carrier=carriers[pick.source]) for name, pick in picked.items()}


def value_expr(name: str, pick: Pick | None) -> str:
    """The input's Argo string form, as an expression inside its template."""
    if pick is None:
        return f"inputs.parameters{index(name)}"
    found = f"jsonpath(inputs.parameters{index(pick.carrier)}, inputs.parameters{index(selector_parameter(name))})"
    return f"toJson({found})" if pick.as_json else found


def value_tag(name: str, pick: Pick | None) -> str:
    """The input's Argo string form, as template text."""
    return f"{{{{inputs.parameters.{name}}}}}" if pick is None else tag(value_expr(name, pick))


def declared(name: str, pick: Pick | None) -> list[dict]:
    """The template's input parameters for one input: its value, or the path that picks it (carriers()
    declares the upstream outputs)."""
    if pick is None:
        return [{"name": name}]
    return [{"name": selector_parameter(name), "default": pick.path}]


def carriers(picked: dict[str, Pick]) -> list[dict]:
    """The template's inputs that hold the upstream outputs."""
    return [{"name": c} for c in sorted({p.carrier for p in picked.values()})]


def carrier_arguments(picked: dict[str, Pick]) -> list[dict]:
    """The DAG task's arguments that pass each upstream output once (never the paths: the template's defaults)."""
    first = {}
    for name in sorted(picked):
        first.setdefault(picked[name].carrier, picked[name])
    return [{"name": c, "value": first[c].argument()} for c in sorted(first)]
