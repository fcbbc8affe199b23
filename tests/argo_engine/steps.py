"""Steps templates: groups run in order, the steps of a group in parallel.

Source: argo-workflows workflow/controller/steps.go (executeSteps, executeStepGroup,
resolveReferences, expandStepGroup), docs/walk-through/steps.md:
- group i is the node `<steps>[i]` (StepGroup, display `[i]`), its steps `<steps>[i].<step>`;
- a step sees `steps.<name>.*` of every earlier group (outputs, status, exitCode, ids), and for a
  loop step the aggregated `steps.<name>.outputs.parameters|result` JSON lists;
- a group fails ("child '<id>' failed") when a child Failed/Errored without `continueOn` for it,
  and the steps node fails with that message, later groups not running; an error resolving a
  group (an absent output, bad withParam) errors the group, which fails the steps node;
- a loop step's children are `<step>(i:item)` directly in the group; an empty loop is one Skipped
  node ("Skipped, empty params").
"""

from __future__ import annotations

import threading

from .dag_runner import (
    FAIL_FAST_MESSAGE,
    ChildSlots,
    add_inputs_to_scope,
    expand,
    finish_with_outputs,
    prepare_holder,
    run_child,
)
from .expressions import ExpressionError
from .govaluate_when import WhenError
from .loops import LoopError
from .model import ERROR, FAILED, SKIPPED, SUCCEEDED
from .substitution import Scope, UnresolvedError


def run_steps(run, node_name, tmpl, tmpl_name, boundary, display):
    node = run.new_node(node_name, "Steps", tmpl_name, boundary, display=display)
    node.inputs = tmpl.get("inputs") or {}
    scope = Scope()
    add_inputs_to_scope(scope, node.inputs)
    scope.artifacts.update(run.global_artifacts())
    slots = ChildSlots(tmpl.get("parallelism"), tmpl.get("failFast", True) is not False)
    previous: list[str] = [node.id]  # the nodes the next group hangs under (outbound nodes)
    for index, group in enumerate(tmpl.get("steps") or []):
        if isinstance(group, dict):  # a single step written without the inner list
            group = group.get("steps") or [group]
        group_node = run.new_node(f"{node_name}[{index}]", "StepGroup", tmpl_name, node.id)
        for prev_id in previous:
            prev = run.nodes.by_id(prev_id)
            if prev is not None:
                run.nodes.add_child(prev.name, group_node.id)
        children = run_group(run, group_node, group, node.id, scope, slots)
        if isinstance(children, str):
            run.finish(group_node, ERROR, children)
            return run.finish(node, FAILED, children)
        failed = None
        for step, child_list in children:
            for child in child_list:
                if child.phase in (FAILED, ERROR) and not _continues(step, child.phase):
                    failed = failed or child
        for step, child_list in children:
            name = step["name"]
            if any(k in step for k in ("withItems", "withParam", "withSequence")):
                run.aggregate_scope(scope, f"steps.{name}", [c for c in child_list if c.type != "Skipped"
                                                              or c.phase != SKIPPED])
                if child_list and len(child_list) == 1 and child_list[0].message == "Skipped, empty params":
                    run.node_scope(scope, f"steps.{name}", child_list[0], None)
            else:
                run.node_scope(scope, f"steps.{name}", child_list[0], step)
        previous = [o for _, cl in children for c in cl for o in run.outbound_of(c)] or [group_node.id]
        node.outbound = previous  # steps.go updateOutboundNodes: the last group's children's outbound nodes
        if slots.blocked:
            run.finish(group_node, FAILED, FAIL_FAST_MESSAGE)
            return run.finish(node, FAILED, FAIL_FAST_MESSAGE)
        if failed is not None:
            message = f"child '{failed.id}' failed"
            run.finish(group_node, FAILED, message)
            return run.finish(node, FAILED, message)
        run.finish(group_node, SUCCEEDED)
    return finish_with_outputs(run, node, tmpl, scope)


def _continues(step: dict, phase: str) -> bool:
    cont = step.get("continueOn") or {}
    return (phase == FAILED and bool(cont.get("failed"))) or (phase == ERROR and bool(cont.get("error")))


def run_group(run, group_node, group: list[dict], boundary_id: str, scope: Scope, slots: ChildSlots):
    """Resolve and run one group; a string is the error that stops the group before any child runs."""
    plans = []
    for step in group:
        try:
            holder, dropped = prepare_holder(run, step, scope)
            expanded = expand(run, holder, dropped, scope)
        except (UnresolvedError, LoopError, WhenError, ExpressionError) as exc:
            return str(exc)
        plans.append((step, holder, dropped, expanded))
    results: dict[int, list] = {}
    threads = []

    def one(index, name, holder, dropped, step, ticket):
        hooks = run.start_hooks(step, name, f"steps.{step['name']}", boundary_id, scope)
        try:
            child = run_child(run, name, holder, dropped, boundary_id, scope, slots, ticket)
        except Exception as exc:  # noqa: BLE001 - recorded on the node, as the controller errors a node
            child = run.new_node(name, "Skipped", step.get("template"), boundary_id, ERROR,
                                 f"step '{name}' errored: {exc}")
        if child is not None:
            results.setdefault(index, []).append(child)
            if child.phase != SKIPPED:
                run.run_lifecycle(step, child, f"steps.{step['name']}", boundary_id, scope)
        for thread in hooks:
            thread.join()

    order = []
    for index, (step, holder, _dropped, expanded) in enumerate(plans):
        base = f"{group_node.name}.{step['name']}"
        if expanded is None:
            order.append((index, base, holder))
        elif not expanded:
            results[index] = [run.new_node(base, "Skipped", step.get("template"), boundary_id, SKIPPED,
                                           "Skipped, empty params")]
        else:
            for suffix, item_holder in expanded:
                order.append((index, base + suffix, item_holder))
    for index, name, holder in order:
        step, _, dropped, _ = plans[index]
        thread = threading.Thread(target=one, args=(index, name, holder, dropped, step, slots.ticket()), daemon=True)
        threads.append(thread)
        thread.start()
    for thread in threads:
        thread.join()
    out = []
    for index, (step, *_rest) in enumerate(plans):
        children = sorted(results.get(index, []), key=lambda n: _loop_index(n.name))
        for child in children:
            run.nodes.add_child(group_node.name, child.id)
        out.append((step, children))
    return out


def _loop_index(name: str) -> int:
    import re

    match = re.search(r"\((\d+)(?::[^()]*)?\)$", name)
    return int(match.group(1)) if match else 0
