"""DAG templates: `depends` / `dependencies`, target tasks, branch phases, failFast.

Source: argo-workflows workflow/controller/dag.go (executeDAG, executeDAGTask,
evaluateDependsLogic, assessDAGPhase), workflow/common/ancestry.go (GetTaskDependencies,
expandDependency), docs/enhanced-depends-logic.md:
- a bare `A` in `depends`, and every `dependencies` entry, means
  `(A.Succeeded || A.Skipped || A.Daemoned)`, plus `|| A.Failed` / `|| A.Errored` when A has
  `continueOn.failed` / `continueOn.error`;
- results: Succeeded, Failed, Errored, Skipped, Omitted, Daemoned, and for a loop task
  AnySucceeded / AllFailed over its children; names are evaluated with `-` turned into `_`;
- a task whose depends is false is Omitted ("omitted: depends condition not met");
- only the targets (`target`, or the tasks nothing depends on) and their ancestors run;
- independent branches go on after a failure; the DAG is Failed/Error when a target's branch is
  (an Omitted task inherits its parents' branch phase), unless that target continues on it;
- a loop task is a TaskGroup of `task(i:item)` children; an empty loop is Skipped
  ("Skipped, empty params"); `when` false is Skipped ("when '...' evaluated false").
"""

from __future__ import annotations

import re
import threading

from .expressions import ExpressionError, evaluate
from .model import ERROR, FAILED, OMITTED, SKIPPED, SUCCEEDED

_DEP = re.compile(r"(?P<name>[\w-]+)(?:\.(?P<result>\w+))?")
RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")


def continues_on(task: dict, phase: str) -> bool:
    cont = task.get("continueOn") or {}
    return (phase == FAILED and bool(cont.get("failed"))) or (phase == ERROR and bool(cont.get("error")))


def expand_dependency(name: str, tasks: dict[str, dict]) -> str:
    parts = [f"{name}.Succeeded", f"{name}.Skipped", f"{name}.Daemoned"]
    dep = tasks.get(name, {})
    if (dep.get("continueOn") or {}).get("failed"):
        parts.append(f"{name}.Failed")
    if (dep.get("continueOn") or {}).get("error"):
        parts.append(f"{name}.Errored")
    return "(" + " || ".join(parts) + ")"


def dependencies_of(task: dict, tasks: dict[str, dict]) -> tuple[list[str], str]:
    """(names the task depends on, the resolved depends logic)."""
    if task.get("depends"):
        names: list[str] = []

        def resolve(match: re.Match) -> str:
            name, result = match.group("name"), match.group("result")
            if name not in tasks:
                if name in ("true", "false"):
                    return match.group(0)
                raise ExpressionError(f"task {task['name']!r} depends on unknown task {name!r}")
            if name not in names:
                names.append(name)
            if result is None:
                return expand_dependency(name, tasks)
            if result not in RESULTS:
                raise ExpressionError(f"task {task['name']!r}: unknown task result {name}.{result}")
            return match.group(0)

        return names, _DEP.sub(resolve, task["depends"])
    deps = list(task.get("dependencies") or [])
    for name in deps:
        if name not in tasks:
            raise ExpressionError(f"task {task['name']!r} depends on unknown task {name!r}")
    return deps, " && ".join(expand_dependency(d, tasks) for d in deps)


def evaluate_depends(logic: str, results: dict[str, dict]) -> bool:
    env = {name.replace("-", "_"): value for name, value in results.items()}
    try:
        value = evaluate(logic.replace("-", "_"), env)
    except ExpressionError as exc:
        raise ExpressionError(f"unable to evaluate expression '{logic}': {exc}") from None
    if not isinstance(value, bool):
        raise ExpressionError(f"unable to evaluate expression '{logic}': not a bool")
    return value


def task_results(node, children) -> dict:
    any_succeeded = any(c.phase == SUCCEEDED for c in children)
    all_failed = bool(children) and all(c.phase == FAILED for c in children)
    return {"Succeeded": node.phase == SUCCEEDED, "Failed": node.phase == FAILED, "Errored": node.phase == ERROR,
            "Skipped": node.phase == SKIPPED, "Omitted": node.phase == OMITTED, "Daemoned": False,
            "AnySucceeded": any_succeeded, "AllFailed": all_failed}


def targets_of(dag: dict, tasks: dict[str, dict]) -> list[str]:
    if dag.get("target"):
        return str(dag["target"]).split()
    depended = set()
    for task in tasks.values():
        depended.update(dependencies_of(task, tasks)[0])
    return [name for name in tasks if name not in depended]


def ancestors(name: str, deps: dict[str, list[str]]) -> list[str]:
    seen: list[str] = []
    stack = list(deps.get(name, []))
    while stack:
        cur = stack.pop()
        if cur not in seen:
            seen.append(cur)
            stack.extend(deps.get(cur, []))
    return seen


def branch_phase(name: str, nodes: dict, deps: dict[str, list[str]], memo: dict) -> str:
    """assessDAGPhase: an Omitted task takes its parents' branch phase, Failed/Error preferred."""
    if name in memo:
        return memo[name]
    node = nodes.get(name)
    if node is None:
        memo[name] = ""
        return ""
    if node.phase != OMITTED:
        memo[name] = node.phase
        return node.phase
    phase = SUCCEEDED
    for dep in deps.get(name, []):
        parent = branch_phase(dep, nodes, deps, memo)
        if parent in (FAILED, ERROR):
            phase = parent
            break
    memo[name] = phase
    return phase


def dag_phase(targets: list[str], tasks: dict[str, dict], nodes: dict, deps: dict[str, list[str]],
              fail_fast: bool) -> str:
    memo: dict = {}
    result = SUCCEEDED
    for target in targets:
        phase = branch_phase(target, nodes, deps, memo)
        if phase in (FAILED, ERROR):
            if continues_on(tasks[target], phase):
                continue
            result = phase
            if fail_fast:
                break
    return result


class DagState:
    """Bookkeeping of one DAG node's tasks while its threads run."""

    def __init__(self):
        self.cond = threading.Condition()
        self.nodes: dict[str, object] = {}     # task name -> its node (TaskGroup for loops)
        self.running: set[str] = set()
        self.started: set[str] = set()
