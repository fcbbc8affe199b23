"""Running a DAG node's tasks on threads, by the rules in dag.py (workflow/controller/dag.go)."""

from __future__ import annotations

import copy
import threading

from . import dag as daglib
from .expressions import ExpressionError
from .govaluate_when import WhenError, should_execute
from .loops import LoopError, expansions, items_of
from .model import ERROR, FAILED, OMITTED, SKIPPED, SUCCEEDED
from .outputs import scope_outputs
from .substitution import TAG, Scope, UnresolvedError, substitute

FAIL_FAST_MESSAGE = "template has failed or errored children and failFast enabled"


class ChildSlots:
    """Template-level `parallelism` and failFast (operator.go checkParallelism): at most `parallelism`
    children run at once, admitted in the order the controller creates them; with parallelism set and
    failFast (the default), no new child starts once one failed."""

    def __init__(self, parallelism, fail_fast: bool):
        self.limit = int(parallelism) if parallelism else None
        self.fail_fast = fail_fast and self.limit is not None
        self.failed = False
        self.cond = threading.Condition()
        self.running = 0
        self.issued = 0
        self.admitted = 0
        self.blocked = 0  # children not started because of failFast

    def ticket(self) -> int:
        """Taken in creation order, before the child's thread starts."""
        with self.cond:
            self.issued += 1
            return self.issued - 1

    def skip(self, ticket: int | None) -> None:
        """A child that will not run (skipped, errored before creation) gives up its turn."""
        if self.limit is None or ticket is None:
            return
        with self.cond:
            while self.admitted != ticket:
                self.cond.wait()
            self.admitted += 1
            self.cond.notify_all()

    def run(self, fn, ticket: int | None = None):
        if self.limit is None:
            return fn()
        with self.cond:
            while not (self.admitted == ticket and self.running < self.limit) if ticket is not None else (
                    self.running >= self.limit):
                self.cond.wait()
            if ticket is not None:
                self.admitted += 1
            skip = self.fail_fast and self.failed
            if skip:
                self.blocked += 1
            else:
                self.running += 1
            self.cond.notify_all()
        if skip:
            return None
        node = None
        try:
            node = fn()
            return node
        finally:
            with self.cond:
                self.running -= 1
                if node is not None and node.phase in (FAILED, ERROR):
                    self.failed = True
                self.cond.notify_all()


def prepare_holder(run, holder: dict, scope: Scope) -> tuple[dict, set[str]]:
    """resolveDependencyReferences: substitute the task/step, dropping arguments that are only a
    reference to an absent optional output (so the input's default applies)."""
    holder = copy.deepcopy(holder)
    dropped: set[str] = set()
    params = (holder.get("arguments") or {}).get("parameters") or []
    kept = []
    for param in params:
        value = str(param.get("value", ""))
        match = TAG.fullmatch(value.strip())
        if match and match.group(1).strip() in scope.absent:
            dropped.add(param["name"])
            continue
        kept.append(param)
    if params:
        holder["arguments"]["parameters"] = kept
    arts = (holder.get("arguments") or {}).get("artifacts")
    plain = {k: v for k, v in holder.items() if k not in ("hooks", "onExit")}
    plain = substitute({k: v for k, v in plain.items() if k != "arguments"}, run.globals.merged(scope), True) | {
        "arguments": substitute({k: v for k, v in (holder.get("arguments") or {}).items() if k != "artifacts"},
                                run.globals.merged(scope), True)}
    if arts:
        resolved = []
        for art in arts:
            art = dict(art)
            frm = art.pop("from", None)
            art = substitute(art, run.globals.merged(scope), True)
            if frm is not None:
                art["from"] = frm
            resolved.append(art)
        plain["arguments"]["artifacts"] = resolved
    for key in ("hooks", "onExit"):
        if key in holder:
            plain[key] = holder[key]
    return plain, dropped


def expand(run, holder: dict, dropped: set[str], scope: Scope) -> list[tuple[str | None, dict]] | None:
    """(suffix, per-item holder) list, or None without a loop."""
    try:
        items = items_of(holder)
    except LoopError:
        # dag.go expandTask / steps.go expandStep: an unparsable withParam is an error only when the
        # `when` clause would let the task run; otherwise the task expands to nothing
        if should_execute(holder.get("when", "")):
            raise
        items = []
    if items is None:
        return None
    out = []
    for suffix, values, raw in expansions("", items):
        item_scope = Scope(values, raw)
        body = {k: v for k, v in holder.items() if k not in ("withItems", "withParam", "withSequence")}
        expanded = substitute(body, item_scope, allow_unresolved=True)
        leftover = [t for t in _tags(expanded) if t.strip() == "item" or t.strip().startswith("item.")]
        if leftover:
            raise UnresolvedError(f"failed to resolve {{{{{leftover[0].strip()}}}}}")
        out.append((suffix, expanded))
    return out


def _tags(obj) -> list[str]:
    from .substitution import tags_in

    return tags_in(obj)


def run_child(run, name: str, holder: dict, dropped: set[str], boundary_id: str, scope: Scope,
              slots: ChildSlots, ticket: int | None = None):
    """One task/step (or one loop iteration): `when`, then the template."""
    admitted = False
    try:
        node = _prepare_child(run, name, holder, dropped, boundary_id, scope)
        if not isinstance(node, dict):
            return node

        def execute():
            run.thread_scope.volumes = scope
            return run.execute_template(name, holder, node, boundary_id)

        admitted = True
        return slots.run(execute, ticket)
    finally:
        if not admitted:
            slots.skip(ticket)  # later children must not wait for a turn this one will not take


def _prepare_child(run, name: str, holder: dict, dropped: set[str], boundary_id: str, scope: Scope):
    """The child's arguments, or the node recording why it does not run."""
    when = holder.get("when", "")
    try:
        proceed = should_execute(when)
    except WhenError as exc:
        return run.new_node(name, "Skipped", holder.get("template"), boundary_id, ERROR, str(exc))
    if not proceed:
        return run.new_node(name, "Skipped", holder.get("template"), boundary_id, SKIPPED,
                            f"when '{when}' evaluated false")
    args = dict(holder.get("arguments") or {})
    try:
        tmpl = run.resolve_template(holder)
    except Exception:  # noqa: BLE001 - reported when the template runs
        tmpl = {}
    optional = {a["name"] for a in (tmpl.get("inputs") or {}).get("artifacts") or [] if a.get("optional")}
    try:
        args["artifacts"] = run.resolve_artifact_arguments(args.get("artifacts") or [], scope, optional)
    except UnresolvedError as exc:
        return run.new_node(name, "Skipped", holder.get("template"), boundary_id, ERROR, str(exc))
    if dropped:
        for param in (tmpl.get("inputs") or {}).get("parameters") or []:
            if param["name"] in dropped and "default" not in param and "value" not in param:
                return run.new_node(name, "Skipped", holder.get("template"), boundary_id, ERROR,
                                    f"inputs.parameters.{param['name']} refers to an absent optional output "
                                    "and the input has no default")
    return args


def run_dag(run, node_name, tmpl, tmpl_name, boundary, display):
    node = run.new_node(node_name, "DAG", tmpl_name, boundary, display=display)
    node.inputs = tmpl.get("inputs") or {}
    dag = tmpl["dag"]
    tasks = {t["name"]: t for t in dag.get("tasks") or []}
    try:
        resolved = {name: daglib.dependencies_of(task, tasks) for name, task in tasks.items()}
        deps = {name: r[0] for name, r in resolved.items()}
        targets = daglib.targets_of(dag, tasks)
        for target in targets:
            if target not in tasks:
                raise ExpressionError(f"target {target!r} does not exist")
    except ExpressionError as exc:
        return run.finish(node, ERROR, str(exc))
    relevant = set(targets)
    for target in targets:
        relevant.update(daglib.ancestors(target, deps))
    order = [name for name in tasks if name in relevant]
    slots = ChildSlots(tmpl.get("parallelism"), dag.get("failFast", True) is not False)
    state = daglib.DagState()
    threads = []

    def task_thread(name: str) -> None:
        try:
            result = run_task(run, node, name, tasks, deps, resolved[name][1], state, slots)
        except Exception as exc:  # noqa: BLE001 - a node error, recorded as Argo records it
            result = run.new_node(f"{node_name}.{name}", "Skipped", tasks[name].get("template"), node.id, ERROR,
                                  f"task '{node_name}.{name}' errored: {exc}")
        with state.cond:
            if result is not None:
                state.nodes[name] = result
            state.running.discard(name)
            state.cond.notify_all()

    with state.cond:
        while True:
            for name in order:
                if name in state.started or any(d not in state.nodes for d in deps[name]):
                    continue
                if any(d in state.started and d not in state.nodes for d in deps[name]):
                    continue
                state.started.add(name)
                state.running.add(name)
                thread = threading.Thread(target=task_thread, args=(name,), daemon=True)
                threads.append(thread)
                thread.start()
            if not state.running:
                break
            state.cond.wait()
    for thread in threads:
        thread.join()
    for name in order:
        task_node = state.nodes.get(name)
        if task_node is None:
            continue
        if not deps[name]:
            run.nodes.add_child(node.name, task_node.id)
        for dep in deps[name]:
            if dep in state.nodes:
                for out_id in run.outbound_of(state.nodes[dep]):
                    out = run.nodes.by_id(out_id)
                    if out is not None:
                        run.nodes.add_child(out.name, task_node.id)
    # dag.go updateOutboundNodesForTargetTasks
    node.outbound = [o for t in targets if t in state.nodes for o in run.outbound_of(state.nodes[t])]
    if slots.blocked:
        return run.finish(node, FAILED, FAIL_FAST_MESSAGE)
    phase = daglib.dag_phase(targets, tasks, state.nodes, deps, fail_fast=dag.get("failFast", True) is not False)
    if phase != SUCCEEDED:
        failed = [state.nodes[t] for t in targets if t in state.nodes and state.nodes[t].phase in (FAILED, ERROR)]
        return run.finish(node, phase, failed[0].message if failed else "")
    scope = Scope()
    for name, task in tasks.items():
        task_node = state.nodes.get(name)
        if task_node is None:
            continue
        if task_node.type == "TaskGroup":
            run.aggregate_scope(scope, f"tasks.{name}", [run.nodes.by_id(c) for c in task_node.children])
        run.node_scope(scope, f"tasks.{name}", task_node, task)
    return finish_with_outputs(run, node, tmpl, scope)


def finish_with_outputs(run, node, tmpl: dict, scope: Scope):
    """A DAG or steps template whose children succeeded: its outputs from its tasks' or steps' scope, then
    Succeeded; an output that cannot be resolved errors the node, as operator.go does."""
    try:
        params = scope_outputs(tmpl, run.globals.merged(scope))
        arts = []
        for art in (tmpl.get("outputs") or {}).get("artifacts") or []:
            for found in run.resolve_artifact_arguments([art], scope):  # none for a missing optional one
                arts.append({**{k: v for k, v in found.items() if k != "from"}, "name": art["name"]})
    except Exception as exc:  # noqa: BLE001 - the node errors, as operator.go does
        return run.finish(node, ERROR, str(exc))
    node.outputs = {k: v for k, v in (("parameters", params), ("artifacts", arts)) if v}
    return run.finish(node, SUCCEEDED)


def task_scope(run, node, name, tasks, deps, state) -> Scope:
    """buildLocalScopeFromTask: the task's ancestors only."""
    scope = Scope()
    for anc in daglib.ancestors(name, deps):
        anc_node = state.nodes.get(anc)
        if anc_node is None:
            continue
        if anc_node.type == "TaskGroup":
            run.aggregate_scope(scope, f"tasks.{anc}", [run.nodes.by_id(c) for c in anc_node.children])
        run.node_scope(scope, f"tasks.{anc}", anc_node, tasks[anc])
    scope.artifacts.update(run.global_artifacts())
    add_inputs_to_scope(scope, node.inputs)
    return scope


def add_inputs_to_scope(scope: Scope, inputs: dict) -> None:
    """A DAG's or steps template's own inputs, as its tasks/steps see them."""
    for param in inputs.get("parameters") or []:
        scope.set(f"inputs.parameters.{param['name']}", param.get("value", ""))
    for art in inputs.get("artifacts") or []:
        if any(k in art for k in ("s3", "raw")):
            scope.artifacts[f"inputs.artifacts.{art['name']}"] = art


def run_task(run, dag_node, name, tasks, deps, logic, state, slots):
    task = tasks[name]
    node_name = f"{dag_node.name}.{name}"
    if logic:
        results = {}
        for dep in deps[name]:
            dep_node = state.nodes[dep]
            children = [run.nodes.by_id(c) for c in dep_node.children] if dep_node.type == "TaskGroup" else []
            results[dep] = daglib.task_results(dep_node, children)
        try:
            execute = daglib.evaluate_depends(logic, results)
        except ExpressionError as exc:
            return run.new_node(node_name, "Skipped", task.get("template"), dag_node.id, ERROR, str(exc))
        if not execute:
            return run.new_node(node_name, "Skipped", task.get("template"), dag_node.id, OMITTED,
                                "omitted: depends condition not met")
    scope = task_scope(run, dag_node, name, tasks, deps, state)
    try:
        holder, dropped = prepare_holder(run, task, scope)
        expanded = expand(run, holder, dropped, scope)
    except (UnresolvedError, LoopError, WhenError, ExpressionError) as exc:
        return run.new_node(node_name, "Skipped", task.get("template"), dag_node.id, ERROR, str(exc))
    if expanded is None:
        hooks = run.start_hooks(task, node_name, f"tasks.{name}", dag_node.id, scope)
        child = run_child(run, node_name, holder, dropped, dag_node.id, scope, slots)
        if child is not None and child.phase not in (SKIPPED, OMITTED):
            run.run_lifecycle(task, child, f"tasks.{name}", dag_node.id, scope)
        for thread in hooks:
            thread.join()
        return child
    if not expanded:
        return run.new_node(node_name, "Skipped", task.get("template"), dag_node.id, SKIPPED,
                            "Skipped, empty params")
    group = run.new_node(node_name, "TaskGroup", task.get("template"), dag_node.id)
    results = [None] * len(expanded)

    def one(index: int, suffix: str, item_holder: dict, ticket: int) -> None:
        try:
            results[index] = run_child(run, f"{node_name}{suffix}", item_holder, dropped, dag_node.id, scope, slots,
                                       ticket)
        except Exception as exc:  # noqa: BLE001 - recorded on the node, as the controller errors a node
            results[index] = run.new_node(f"{node_name}{suffix}", "Skipped", task.get("template"), dag_node.id,
                                          ERROR, f"task '{node_name}{suffix}' errored: {exc}")

    threads = [threading.Thread(target=one, args=(i, s, h, slots.ticket()), daemon=True)
               for i, (s, h) in enumerate(expanded)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase = SUCCEEDED
    for child in results:
        if child is None:
            continue
        run.nodes.add_child(group.name, child.id)
        if child.phase in (FAILED, ERROR):
            phase = child.phase
    run.finish(group, phase)
    run.run_lifecycle(task, group, f"tasks.{name}", dag_node.id, scope)
    return group
