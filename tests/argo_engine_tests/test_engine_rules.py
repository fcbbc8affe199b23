"""The engine's own rules, each against what Argo documents or implements (cited per test)."""

from __future__ import annotations

import pytest
from argo_engine.dag import dependencies_of, evaluate_depends
from argo_engine.expressions import evaluate, go_format
from argo_engine.functions import argo_functions
from argo_engine.govaluate_when import WhenError, should_execute
from argo_engine.memoize import MemoCache, MemoizeError
from argo_engine.model import NodeResult
from argo_engine.retry import backoff_seconds, decide, parse_duration
from argo_engine.substitution import Scope, UnresolvedError, replace


def test_when_is_govaluate_with_bare_words_as_strings():
    # workflow/controller/steps.go shouldExecute: VARIABLE tokens become STRING
    assert should_execute("heads == heads")
    assert not should_execute("tails == heads")
    assert should_execute("5 > 3")
    # a `-` inside a bare name is a minus: string minus string is an error (govaluate modifier typing)
    with pytest.raises(WhenError, match="modifier '-'"):
        should_execute("my-value == my-value")
    # the string "True" (a variable) is not the boolean true
    assert not should_execute("True == true")
    with pytest.raises(WhenError, match="Expected boolean"):
        should_execute("1 + 2")


def test_expressions_follow_expr_lang_and_argo_functions():
    # util/expr/env/env.go: asInt/asFloat/jsonpath/sprig; expression_template.go prints with %v
    env = {"inputs": {"parameters": {"n": "4", "j": '{"a": [1, 2]}'}}, **argo_functions()}
    assert evaluate("asInt(inputs.parameters.n) * 10", env) == 40
    assert evaluate("jsonpath(inputs.parameters.j, '$.a[1]')", env) == 2
    assert evaluate("sprig.sha256sum('x')", env).startswith("2d711642")
    assert evaluate("nil ?? 'd'", env) == "d"
    assert go_format(1.5) == "1.5" and go_format(3.0) == "3" and go_format([1, "a"]) == "[1 a]"
    assert go_format(1e21) == "1e+21"


def test_simple_and_expression_tags():
    scope = Scope({"inputs.parameters.x": "a\"b"})
    assert replace("{{inputs.parameters.x}}!", scope, False) == 'a"b!'
    assert replace("{{= inputs.parameters.x + 'c'}}", scope, False) == 'a"bc'
    with pytest.raises(UnresolvedError, match="failed to resolve"):
        replace("{{inputs.parameters.y}}", scope, False)
    assert replace("{{inputs.parameters.y}}", scope, True) == "{{inputs.parameters.y}}"


def test_depends_bare_name_and_continue_on():
    # workflow/common/ancestry.go expandDependency; docs/enhanced-depends-logic.md
    tasks = {"A": {"name": "A", "continueOn": {"failed": True}}, "B": {"name": "B", "depends": "A"}}
    names, logic = dependencies_of(tasks["B"], tasks)
    assert names == ["A"] and logic == "(A.Succeeded || A.Skipped || A.Daemoned || A.Failed)"
    results = {"my-task": {"Succeeded": False, "Failed": True, "Errored": False, "Skipped": False,
                           "Omitted": False, "Daemoned": False, "AnySucceeded": False, "AllFailed": True}}
    assert evaluate_depends("my-task.Failed && my-task.AllFailed", results)
    assert not evaluate_depends("my-task.Succeeded", results)


def test_retry_backoff_and_policy():
    # operator.go processNodeRetries: duration * factor^(n-1), capped; limit counts retries
    assert parse_duration("1m30s") == 90 and parse_duration("20") == 20
    assert backoff_seconds({"duration": "2", "factor": 3}, 1) == 2
    assert backoff_seconds({"duration": "2", "factor": 3, "cap": "10s"}, 3) == 10

    def node(phase):
        return NodeResult(id="x", name="x", display_name="x", type="Pod", template_name="t", phase=phase,
                          outputs={"exitCode": "2"}, started=0.0, finished=1.0)

    assert decide({"limit": 1}, [node("Failed")], 2.0, None)[0]
    assert decide({"limit": 1}, [node("Failed"), node("Failed")], 2.0, None)[1] == "No more retries left"
    assert decide({"limit": 3, "retryPolicy": "OnError"}, [node("Failed")], 2.0, None)[0] is False
    ok = decide({"limit": 3, "expression": "asInt(lastRetry.exitCode) > 1"}, [node("Failed")], 2.0,
                lambda e, v: evaluate(e, {**Scope(v).expression_env()}))
    assert ok[0]
    assert decide({"limit": 3, "backoff": {"duration": "5", "maxDuration": "3"}}, [node("Failed")], 2.0,
                  None)[1] == "Backoff would exceed max duration limit"


def test_memoize_max_age_and_keys():
    # docs/memoization.md: maxAge expiry; ConfigMap key rules
    now = [100.0]
    cache = MemoCache(clock=lambda: now[0])
    cache.save("c", "k1", "n", {"parameters": [{"name": "p", "value": "v"}]})
    assert cache.load("c", "k1", "10s")["parameters"][0]["value"] == "v"
    now[0] += 11
    assert cache.load("c", "k1", "10s") is None
    assert cache.load("c", "k1", None) is not None
    with pytest.raises(MemoizeError):
        cache.load("c", "bad key!", None)


def test_the_engine_is_imported_under_one_name():
    """Imported both as `argo_engine` and `tests.argo_engine`, the engine would be two modules in one process
    (two copies of its state and classes); every test imports it as `argo_engine`."""
    import re
    from pathlib import Path

    tests = Path(__file__).resolve().parents[1]
    found = [f"{path.relative_to(tests)}:{n}" for path in sorted(tests.rglob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if re.match(r"\s*(from|import)\s+tests\.argo_engine", line)]
    assert not found, found
