"""Differential execution: each corpus pipeline through kfp.local (KFP's semantics) and its
compiled Argo workflow through the local Argo engine must agree on which tasks ran, every
output parameter, every output artifact's bytes and metadata, and the final status.

Where kfp.local cannot run a pipeline, the index's written-out result is the reference. What the
target or the engine does not support yet is asserted as it stands (support.py), never skipped.
The project venv is checked unchanged after everything ran.
"""

from __future__ import annotations

import pytest
from conftest import TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY

from corpus import support
from corpus.engine_run import BUCKET, failure_notes, ir_outputs, make_engine, render_argument, task_executions
from corpus.index import CASES, SUCCEEDED
from corpus.record import differences, fill, normalized
from corpus.reference import IMPORT_CONTENT

pytestmark = [pytest.mark.corpus, pytest.mark.local]
IMPORT_KEY = "corpus/import-source.txt"


@pytest.fixture(scope="session")
def s3(s3_server):
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                          aws_access_key_id=TEST_AWS_ACCESS_KEY_ID, aws_secret_access_key=TEST_AWS_SECRET_ACCESS_KEY)
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key=IMPORT_KEY, Body=IMPORT_CONTENT.encode())
    return client


@pytest.fixture(scope="session")
def engine(tmp_path_factory, s3_server, s3):
    return make_engine(tmp_path_factory.mktemp("corpus-engine"), s3_server, TEST_AWS_ACCESS_KEY_ID,
                       TEST_AWS_SECRET_ACCESS_KEY)


@pytest.fixture
def shared_dir():
    """A writable directory every pod of a run sees, as a hostPath volume would be: each pod has
    its own /tmp and copy-on-write system folders; /dev is the host's (tests/argo_engine/pods.py)."""
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="portway-corpus-", dir="/dev/shm")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def engine_result(case, compiled, engine, s3, workdir: str) -> dict:
    slots = {"workdir": workdir, "import_uri": f"s3://{BUCKET}/{IMPORT_KEY}"}
    arguments = {k: render_argument(v) for k, v in fill(case.arguments, slots).items()}
    result = engine.run(compiled.document, arguments, timeout=300)
    tasks = task_executions(result, compiled.document, compiled.ir, s3)
    return {"status": SUCCEEDED if result.phase == "Succeeded" else "FAILED", "tasks": tasks,
            "message": "; ".join([result.message, *failure_notes(result)])}


def expected_result(case, reference, ir: dict) -> dict:
    if case.expected is not None:
        return case.expected
    ran = reference.result(case.name)
    assert ran["status"] == case.status, (
        f"kfp.local ended {case.name} {ran['status']} (the index says {case.status}): {ran.get('error')}")
    compared = ir_outputs(ir)  # container tasks (importers are seen through their readers)
    tasks = {name: list(executions) for name, executions in ran["tasks"].items() if name in compared}
    for name, executions in case.also_runs.items():
        tasks.setdefault(name, list(executions))
    for (task, artifact, path), (local_text, backend_text) in case.kfp_backend.items():
        (execution,) = tasks[task]
        files = execution["artifacts"][artifact]["files"]
        assert files[path] == local_text, f"{case.name}: kfp.local no longer writes {local_text!r} in {path}"
        execution = {**execution, "artifacts": {**execution["artifacts"],
                                                artifact: {**execution["artifacts"][artifact],
                                                           "files": {**files, path: backend_text}}}}
        tasks[task] = [execution]
    return {"status": ran["status"], "tasks": tasks}


@pytest.fixture(scope="session", autouse=True)
def _start_reference_first(reference):
    """Start kfp.local's subprocess before the first engine run, so the two overlap."""
    return reference


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_engine_agrees_with_kfp(case, compiled, engine, s3, reference, shared_dir):
    outcome = compiled[case.name]
    if case.name in support.REFUSED:  # the compile test pins the message; here the row is explicit
        assert outcome.refusal is not None, f"{case.name} now compiles: delete it from support.REFUSED"
        return
    assert outcome.document is not None, outcome.refusal
    if case.compiled_only:
        assert_runs_its_own_image(case, outcome.document)
        return
    want = normalized(expected_result(case, reference, outcome.ir))
    got = engine_result(case, outcome, engine, s3, shared_dir)
    found = differences(want, normalized(got))
    report = f"{case.name}: engine {got['status']} ({got['message']}) vs {case.reference}:\n  " + "\n  ".join(found)
    if case.name in support.DIVERGES:
        assert found, f"{case.name} now agrees with KFP: delete it from support.DIVERGES"
        assert support.DIVERGES[case.name] in report, report
        return
    assert not found, report


def assert_runs_its_own_image(case, document: dict) -> None:
    """A containerized component runs KFP's executor from its target_image, unchanged."""
    from corpus.pipelines.python_components import CONTAINERIZED_IMAGE

    containers = [t["container"] for t in document["spec"]["templates"] if "container" in t]
    ours = [c for c in containers if c["image"] == CONTAINERIZED_IMAGE]
    assert ours, f"{case.name}: no template runs {CONTAINERIZED_IMAGE}: {[c['image'] for c in containers]}"
    words = " ".join([*ours[0].get("command", []), *ours[0].get("args", [])])
    assert "kfp.dsl.executor_main" in words and "--function_to_execute containerized_add" in words, words


def test_the_project_venv_is_unchanged(reference, venv_freeze_before):
    """Nothing the corpus ran (kfp.local's steps, the engine's) installed into the project's .venv."""
    from corpus.conftest import pip_freeze

    assert reference.finish() == 0
    assert pip_freeze() == venv_freeze_before


# Cases whose tasks share templates once sharing is forced: one component on several tasks reading the
# same or different outputs of one upstream, conditions, OneOf of artifacts, a failing step, and a loop in a
# condition in a nested pipeline with an exit handler.
SHARED_CASES = ("one_component_on_each_output", "reused_component", "numeric_conditions", "one_of_artifacts",
                "failing_step", "loop_in_condition_in_nested_with_exit_handler")


@pytest.mark.parametrize("name", SHARED_CASES)
def test_shared_templates_agree_with_kfp(name, compiled, engine, s3, reference, shared_dir, monkeypatch):
    """A large document shares one template per distinct step (compile/argo/sharing.py), each task passing
    its step label and, where its inputs are other outputs than the kept template's, their JSON paths
    (picks.py). Forced here on small pipelines, the runs agree with KFP as the unshared ones do."""
    import dataclasses

    from portway.compile import ArgoOptions, convert_ir
    from portway.compile.argo import sharing

    case = next(c for c in CASES if c.name == name)
    outcome = compiled[name]
    monkeypatch.setattr(sharing, "SHARE_ABOVE", 0)
    document, _ = convert_ir(outcome.ir, ArgoOptions())
    containers = [t for t in document["spec"]["templates"] if "container" in t]
    unshared = [t for t in outcome.document["spec"]["templates"] if "container" in t]
    assert len(containers) < len(unshared), f"{name}: no template was shared"
    shared = dataclasses.replace(outcome, document=document)
    want = normalized(expected_result(case, reference, outcome.ir))
    got = engine_result(case, shared, engine, s3, shared_dir)
    found = differences(want, normalized(got))
    assert not found, f"{name} (shared templates): engine {got['status']} ({got['message']}):\n  " + "\n  ".join(found)


def test_a_shared_template_is_told_which_output_each_task_reads(compiled, monkeypatch):
    from portway.compile import ArgoOptions, convert_ir
    from portway.compile.argo import sharing

    monkeypatch.setattr(sharing, "SHARE_ABOVE", 0)
    document, _ = convert_ir(compiled["one_component_on_each_output"].ir, ArgoOptions())
    tasks = {t["name"]: t for t in document["spec"]["templates"][0]["dag"]["tasks"]}
    passed = {name: {a["name"]: a["value"] for a in task["arguments"]["parameters"]} for name, task in tasks.items()}
    # The kept template reads `first` by default; the task on `second` passes its own path.
    assert tasks["append"]["template"] == tasks["append-2"]["template"]
    assert "text-from" not in passed["append"] and passed["append-2"]["text-from"] == "$.parameterValues.second"
    assert passed["count-rows-2"]["table-from"] == "$.artifacts.test.artifacts[0]"
    assert passed["append-2"]["upstream-0"] == "{{tasks.pair.outputs.parameters.executor-output}}"
