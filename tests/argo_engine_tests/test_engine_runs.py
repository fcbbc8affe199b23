"""Workflows run through the engine, checking each rule against what Argo documents (cited per test)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from argo_engine import ArgoEngine, ImageEnvironment
from argo_engine.images import standard_image
from argo_engine.resources import KubernetesObjects

SH = "busybox"


def wf(templates: list[dict], entrypoint: str = "main", **spec) -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "t-"},
            "spec": {"entrypoint": entrypoint, "templates": templates, **spec}}


def sh(name: str, script: str, **extra) -> dict:
    return {"name": name, "container": {"image": SH, "command": ["sh", "-c"], "args": [script]}, **extra}


@pytest.fixture
def engine(tmp_path):
    return ArgoEngine(tmp_path / "engine", standard_image,
                      secrets={"db": {"password": "s3cr3t"}}, configmaps={"cfg": {"mode": "fast"}})


def dag(*tasks, **extra) -> dict:
    return {"name": "main", "dag": {"tasks": list(tasks)}, **extra}


def test_pods_have_private_filesystems_and_a_container_env(engine, monkeypatch):
    # Each pod is its own container: /tmp and every other path are private; env is the template's only.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "leak")
    marker = f"/argo-engine-{uuid.uuid4().hex[:8]}"
    writer = sh("write", f"echo one > /tmp/x && mkdir -p {marker} && echo a > {marker}/f && env | sort")
    reader = sh("read", f"test ! -e /tmp/x && test ! -e {marker}/f && echo isolated")
    result = engine.run(wf([dag({"name": "w", "template": "write"},
                                {"name": "r", "template": "read", "depends": "w"}), writer, reader]))
    assert result.phase == "Succeeded", result.message
    env_lines = result.node("w").outputs["result"].splitlines()
    assert not any(line.startswith(("AWS_", "VIRTUAL_ENV", "PYTEST")) for line in env_lines)
    assert any(line.startswith("PATH=") for line in env_lines)
    assert result.node("r").outputs["result"] == "isolated"
    assert not Path(marker).exists()  # nothing leaked onto this machine's root


def test_env_from_secrets_and_configmaps_and_secret_volumes(engine):
    # Kubernetes env valueFrom.secretKeyRef/configMapKeyRef; secret volumes as files (one per key)
    tmpl = {"name": "main", "container": {
        "image": SH, "command": ["sh", "-c"], "args": ["echo $PW $MODE $(cat /etc-db/password)"],
        "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}}],
        "volumeMounts": [{"name": "dbv", "mountPath": "/etc-db"}]},
        "volumes": [{"name": "dbv", "secret": {"secretName": "db"}}]}
    result = engine.run(wf([tmpl]))
    assert result.phase == "Succeeded", result.message
    assert result.node(result.workflow_name).outputs["result"] == "s3cr3t fast s3cr3t"
    missing = json.loads(json.dumps(tmpl))
    missing["container"]["env"][0]["valueFrom"]["secretKeyRef"]["key"] = "nope"
    failed = engine.run(wf([missing]))
    assert failed.phase == "Error" and "nope" in failed.message


def test_output_parameter_default_and_missing_file(engine):
    # executor.go SaveParameters: a missing file takes valueFrom.default, else the node errors;
    # one trailing newline is trimmed
    templates = [dag({"name": "a", "template": "out"}, {"name": "b", "template": "nodefault"}),
                 sh("out", "echo hello > /tmp/o", outputs={"parameters": [
                     {"name": "o", "valueFrom": {"path": "/tmp/o"}},
                     {"name": "d", "valueFrom": {"path": "/tmp/missing", "default": "fallback"}}]}),
                 sh("nodefault", "true", outputs={"parameters": [{"name": "x", "valueFrom": {"path": "/tmp/none"}}]})]
    result = engine.run(wf(templates))
    params = {p["name"]: p["value"] for p in result.node("a").outputs["parameters"]}
    assert params == {"o": "hello", "d": "fallback"}
    assert result.node("b").phase == "Error" and "no such file" in result.node("b").message
    assert result.phase == "Error"


def test_retries_get_fresh_pod_names_and_stop_at_the_limit(engine):
    # operator.go processNodeRetries; docs/retries.md: limit retries, `retries` variable, one pod per attempt
    flaky = sh("flaky", "test {{retries}} -ge 2", retryStrategy={"limit": 3, "retryPolicy": "Always"})
    result = engine.run(wf([dag({"name": "f", "template": "flaky"}), flaky]))
    assert result.phase == "Succeeded"
    retry = result.node("f")
    assert retry.type == "Retry" and retry.attempts == 3
    pods = [result.node(f"f({i})").pod_name for i in range(3)]
    assert len(set(pods)) == 3
    assert [result.node(f"f({i})").phase for i in range(3)] == ["Failed", "Failed", "Succeeded"]
    always_fails = sh("flaky", "exit 3", retryStrategy={"limit": 1})
    result = engine.run(wf([dag({"name": "f", "template": "flaky"}), always_fails]))
    assert result.phase == "Failed" and result.node("f").message == "No more retries left"
    assert result.node("f").attempts == 2
    by_expression = sh("flaky", "exit 3", retryStrategy={"limit": 5, "expression": "asInt(lastRetry.exitCode) != 3"})
    result = engine.run(wf([dag({"name": "f", "template": "flaky"}), by_expression]))
    assert result.node("f").attempts == 1
    assert result.node("f").message == "retryStrategy.expression evaluated to false"


def test_memoize_keeps_outputs_across_runs(engine):
    # docs/memoization.md: a hit skips the pod and returns the saved outputs
    tmpl = sh("main", "cat /proc/sys/kernel/random/uuid > /tmp/u", memoize={
        "key": "k-{{workflow.parameters.p}}", "maxAge": "1h", "cache": {"configMap": {"name": "memo"}}},
        outputs={"parameters": [{"name": "u", "valueFrom": {"path": "/tmp/u"}}]})
    spec = wf([tmpl], arguments={"parameters": [{"name": "p", "value": "1"}]})
    first = engine.run(spec)
    second = engine.run(spec)
    other = engine.run(spec, parameters={"p": "2"})
    value = first.nodes[0].outputs["parameters"][0]["value"]
    assert not first.nodes[0].memoized and second.nodes[0].memoized
    assert second.nodes[0].outputs["parameters"][0]["value"] == value
    assert other.nodes[0].outputs["parameters"][0]["value"] != value


def test_dag_failure_lets_independent_branches_finish(engine):
    # docs/enhanced-depends-logic.md; dag.go assessDAGPhase: other branches go on, dependents are omitted
    templates = [dag({"name": "bad", "template": "fail"}, {"name": "after-bad", "template": "ok", "depends": "bad"},
                     {"name": "on-fail", "template": "ok", "depends": "bad.Failed"},
                     {"name": "slow", "template": "ok"}, {"name": "after-slow", "template": "ok", "depends": "slow"}),
                 sh("fail", "exit 1"), sh("ok", "true")]
    result = engine.run(wf(templates))
    assert result.phase == "Failed"
    assert result.node("after-bad").phase == "Omitted"
    assert result.node("on-fail").phase == "Succeeded"
    assert result.node("after-slow").phase == "Succeeded"
    assert result.node("bad").message == "Error (exit code 1)"


def test_when_minus_in_a_bare_word_is_an_error(engine):
    # steps.go shouldExecute + govaluate: `a-b` is a minus between two strings
    templates = [dag({"name": "x", "template": "ok", "when": "{{workflow.parameters.v}} == my-value"}), sh("ok", "true")]
    result = engine.run(wf(templates, arguments={"parameters": [{"name": "v", "value": "my-value"}]}))
    assert result.node("x").phase == "Error" and "modifier '-'" in result.node("x").message


def test_validation_rejects_before_running(engine):
    # validate.go: a workflow parameter without value; an undeclared input; an unknown template
    missing = engine.run(wf([sh("main", "true")], arguments={"parameters": [{"name": "p"}]}))
    assert missing.phase == "Failed" and missing.message == "invalid spec: spec.arguments.parameters.p.value is required"
    assert missing.nodes == []
    undeclared = engine.run(wf([sh("main", "echo {{inputs.parameters.nope}}")]))
    assert "failed to resolve {{inputs.parameters.nope}}" in undeclared.message
    unknown = engine.run(wf([dag({"name": "a", "template": "ghost"})]))
    assert "template name 'ghost' undefined" in unknown.message
    bad_global = engine.run(wf([sh("main", "echo {{workflow.nosuch}}")]))
    assert "failed to resolve {{workflow.nosuch}}" in bad_global.message
    item_without_loop = engine.run(wf([dag({"name": "a", "template": "x", "arguments": {"parameters": [
        {"name": "p", "value": "{{item}}"}]}}), sh("x", "echo {{inputs.parameters.p}}", inputs={
            "parameters": [{"name": "p"}]})]))
    assert "failed to resolve {{item}}" in item_without_loop.message


def test_exit_handler_sees_status_and_failures(engine):
    # docs/variables.md: workflow.status and workflow.failures in the onExit handler
    templates = [dag({"name": "boom", "template": "fail"}), sh("fail", "exit 2"),
                 sh("exit", "echo {{workflow.status}}; echo '{{workflow.failures}}'")]
    result = engine.run(wf(templates, onExit="exit"))
    assert result.phase == "Failed"
    status, failures = result.node(f"{result.workflow_name}.onExit").outputs["result"].split("\n", 1)
    assert status == "Failed"
    assert {f["displayName"] for f in json.loads(failures)} >= {"boom"}


def test_resource_template_with_a_fake_controller(engine):
    # resource.go: successCondition polled on the object; outputs by jsonPath
    states = iter(["Running", "Running", "Succeeded"])

    def trainjobs(action, manifest):
        obj = dict(manifest)
        obj["status"] = {"phase": next(states, "Succeeded"), "result": "0.93"}
        return obj

    engine.resource_controllers["kubeflow.org/v1/TrainJob"] = trainjobs
    tmpl = {"name": "main", "resource": {
        "action": "create", "successCondition": "status.phase == Succeeded", "failureCondition": "status.phase == Failed",
        "manifest": "apiVersion: kubeflow.org/v1\nkind: TrainJob\nmetadata:\n  name: job-{{workflow.name}}\n"},
        "outputs": {"parameters": [{"name": "r", "valueFrom": {"jsonPath": "{.status.result}"}}]}}
    result = engine.run(wf([tmpl]))
    assert result.phase == "Succeeded", result.message
    assert result.nodes[0].outputs["parameters"] == [{"name": "r", "value": "0.93"}]
    store = KubernetesObjects()
    engine.resource_controllers["v1/ConfigMap"] = store
    cm = {"name": "main", "resource": {"action": "create", "manifest": "apiVersion: v1\nkind: ConfigMap\n"
                                                                        "metadata:\n  name: one\n"}}
    assert engine.run(wf([cm])).phase == "Succeeded"
    again = engine.run(wf([cm]))
    assert again.phase == "Failed" and "already exists" in again.message  # kubectl create refused


def test_resource_fails_when_any_failure_requirement_holds(engine):
    # resource.go, matchConditions: each failureCondition requirement fails the step on its own;
    # a successCondition needs all of its requirements (numMatched >= len(successReqs)).
    def jobs(action, manifest):
        return {**manifest, "status": {"phase": "Running", "reason": "NodeLost", "succeeded": 0}}

    engine.resource_controllers["example.com/v1/Job"] = jobs
    tmpl = {"name": "main", "resource": {
        "action": "create", "successCondition": "status.phase == Succeeded,status.succeeded > 0",
        "failureCondition": "status.phase == Failed,status.reason in (NodeLost,Evicted)",
        "manifest": "apiVersion: example.com/v1\nkind: Job\nmetadata:\n  name: job-{{workflow.name}}\n"}}
    result = engine.run(wf([tmpl]), timeout=30)
    assert result.phase == "Failed"
    assert "failure condition 'status.reason in (NodeLost,Evicted)' evaluated true" in result.nodes[0].message


def test_template_parallelism_limits_concurrent_children(engine, tmp_path):
    # docs/parallelism: a template's `parallelism` bounds its running children; checked with a lock dir
    step = sh("one", "mkdir /shared/lock || echo OVERLAP >> /shared/log; sleep 0.2; rmdir /shared/lock; "
                     "echo done >> /shared/log")
    step["container"]["volumeMounts"] = [{"name": "shared", "mountPath": "/shared"}]
    main = {"name": "main", "parallelism": 1, "dag": {"tasks": [
        {"name": "t", "template": "one", "withItems": [1, 2, 3]}]}}
    spec = wf([main, step], volumes=[{"name": "shared", "persistentVolumeClaim": {"claimName": "shared"}}])
    engine.parallelism = 3
    result = engine.run(spec)
    assert result.phase == "Succeeded"
    log = (engine.workdir / "pvc" / "shared" / "log").read_text()
    assert "OVERLAP" not in log and log.count("done") == 3


def test_fail_fast_with_parallelism_stops_new_children(engine):
    # operator.go checkParallelism: with parallelism and failFast, no new child after a failure
    main = {"name": "main", "parallelism": 1, "steps": [[
        {"name": "s", "template": "maybe", "arguments": {"parameters": [{"name": "n", "value": "{{item}}"}]},
         "withItems": [1, 2, 3]}]]}
    maybe = sh("maybe", "test {{inputs.parameters.n}} -ne 1", inputs={"parameters": [{"name": "n"}]})
    result = engine.run(wf([main, maybe]))
    assert result.phase == "Failed"
    assert result.message == "template has failed or errored children and failFast enabled"
    assert len([n for n in result.nodes if n.type == "Pod"]) == 1


def test_image_environment_puts_its_path_first(tmp_path):
    # the image decides which tools a command finds, before the base system's
    bindir = tmp_path / "img" / "bin"
    bindir.mkdir(parents=True)
    tool = bindir / "greet"
    tool.write_text("#!/bin/sh\necho from-image $GREETING\n")
    tool.chmod(0o755)
    engine = ArgoEngine(tmp_path / "e", {"example/greeter:1": ImageEnvironment([str(bindir)], {"GREETING": "hi"})})
    result = engine.run(wf([{"name": "main", "container": {"image": "example/greeter:1", "command": ["greet"]}}]))
    assert result.phase == "Succeeded", result.message
    assert result.nodes[0].outputs["result"] == "from-image hi"
    assert os.environ.get("GREETING") is None


def test_lifecycle_hooks_run_once_when_their_expression_holds(engine):
    # docs/lifecyclehook.md: a hook runs when its expression is true (while Running, or at the end);
    # `exit` runs after the node, as `<node>.onExit`
    templates = [{"name": "main", "dag": {"tasks": [{"name": "t", "template": "work", "hooks": {
        "exit": {"template": "note"},
        "running": {"expression": 'tasks.t.status == "Running"', "template": "note"},
        "failed": {"expression": 'tasks.t.status == "Failed"', "template": "note"}}}]}},
        sh("work", "sleep 0.3"), sh("note", "true")]
    result = engine.run(wf(templates))
    assert result.phase == "Succeeded", result.message
    names = sorted(n.name.split(".", 1)[1] for n in result.nodes if n.hooked)
    assert names == ["t.hooks.running", "t.onExit"]


def test_validation_checks_output_references(engine):
    # validate.go: a reference must name a declared output of an ancestor task
    templates = [dag({"name": "a", "template": "out"},
                     {"name": "b", "template": "in", "depends": "a",
                      "arguments": {"parameters": [{"name": "x", "value": "{{tasks.a.outputs.parameters.nope}}"}]}}),
                 sh("out", "echo 1 > /tmp/o", outputs={"parameters": [{"name": "o", "valueFrom": {"path": "/tmp/o"}}]}),
                 sh("in", "echo {{inputs.parameters.x}}", inputs={"parameters": [{"name": "x"}]})]
    result = engine.run(wf(templates))
    assert result.phase == "Failed" and "declares no output parameter 'nope'" in result.message
    templates[0]["dag"]["tasks"][1]["depends"] = ""
    templates[0]["dag"]["tasks"][1]["arguments"]["parameters"][0]["value"] = "{{tasks.a.outputs.parameters.o}}"
    result = engine.run(wf(templates))
    assert result.phase == "Failed" and "is not an ancestor" in result.message


def test_workflow_volumes_see_the_task_scope(engine):
    # dag.go resolveDependencyReferences -> substituteParamsInVolumes: spec.volumes resolved per task
    templates = [dag({"name": "p", "template": "pick"}, {"name": "c", "template": "read", "depends": "p"}),
                 sh("pick", "echo cfg > /tmp/n", outputs={"parameters": [{"name": "n", "valueFrom": {"path": "/tmp/n"}}]}),
                 {"name": "read", "container": {"image": SH, "command": ["cat", "/cfg/mode"],
                                                "volumeMounts": [{"name": "v", "mountPath": "/cfg"}]}}]
    spec = wf(templates, volumes=[{"name": "v", "configMap": {"name": "{{tasks.p.outputs.parameters.n}}"}}])
    result = engine.run(spec)
    assert result.phase == "Succeeded", result.message
    assert result.node("c").outputs["result"] == "fast"


def test_template_defaults_apply_to_the_templates_own_kind(engine):
    # operator.go mergedTemplateDefaultsInto: defaults merge in, then only the template's own kind stays
    defaults = {"container": {"image": SH, "command": ["sh", "-c"]}, "script": {"image": SH, "command": ["sh"]},
                "retryStrategy": {"limit": 1}}
    templates = [{"name": "main", "steps": [[{"name": "c", "template": "c"}, {"name": "s", "template": "s"}]]},
                 {"name": "c", "container": {"args": ["echo from-container"]}},
                 {"name": "s", "script": {"source": "echo from-script"}}]
    result = engine.run(wf(templates, templateDefaults=defaults))
    assert result.phase == "Succeeded", result.message
    assert result.node("c(0)").outputs["result"] == "from-container"
    assert result.node("s(0)").outputs["result"] == "from-script"
