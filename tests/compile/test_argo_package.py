"""portway.compile.argo, module by module: values, limits, placeholders, IR errors, and the defects of issue 11."""

# No `from __future__ import annotations`: KFP reads the components' annotations as types.
import json
import re
from typing import List, Optional  # noqa: UP035 (KFP reads typing.List)

import pytest
import yaml
from schema_tools import crd_validator, schema_json_validator, validate_strict

from portway.compile.argo import (
    ArgoOptions,
    MalformedIR,
    UnsupportedFeature,
    convert_ir,
    limits,
    placeholders,
    refs,
    retries,
    values,
)
from portway.compile.kfp_target import compile_kfp
from portway.errors import ParameterError

from .argo_samples import branches, forms

CRDS = "argo-workflows/v4.1.2/crds-full/argoproj.io_{}.yaml"
CRD_OF = {"Workflow": "workflows", "WorkflowTemplate": "workflowtemplates", "CronWorkflow": "cronworkflows"}


def compiled(pipeline, **options):
    return convert_ir(compile_kfp(pipeline), ArgoOptions(**options))


def strict(document, schemas_dir):
    kind = document["kind"]
    validate_strict(document, crd_validator(schemas_dir / CRDS.format(CRD_OF[kind])))
    validate_strict(document, schema_json_validator(schemas_dir / "argo-workflows/v4.1.2/schema.json",
                                                    f"io.argoproj.workflow.v1alpha1.{kind}"))


def templates(document):
    spec = document["spec"].get("workflowSpec", document["spec"])
    return {t["name"]: t for t in spec["templates"]}


def tasks(document):
    return {task["name"]: task for t in templates(document).values() if "dag" in t for task in t["dag"]["tasks"]}


# -- values ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, kfp_type, text", [
    (6.0, "NUMBER_INTEGER", "6"), (2**63 - 1, "NUMBER_INTEGER", str(2**63 - 1)), (0.5, "NUMBER_DOUBLE", "0.5"),
    (True, "BOOLEAN", "true"), ({"b": 1.0, "a": [2.0]}, "STRUCT", '{"a":[2],"b":1}'), ("x", "STRING", "x"),
])
def test_values_render_and_parse_back(value, kfp_type, text):
    assert values.render(value, kfp_type) == text
    assert values.render(values.parse(text, kfp_type, "x"), kfp_type) == text


def test_integers_never_pass_through_float():
    big = "9007199254740993"  # 2**53 + 1: float would round it
    assert values.parse(big, "NUMBER_INTEGER", "n") == 9007199254740993
    assert values.parse("6.0", "NUMBER_INTEGER", "n") == 6


@pytest.mark.parametrize("raw, kfp_type", [("1.5", "NUMBER_INTEGER"), ("True!", "BOOLEAN"), ("nan", "NUMBER_DOUBLE"),
                                           ("{}", "LIST"), ("[1]", "STRUCT"), ("x", "NUMBER_DOUBLE")])
def test_values_refuse_what_the_type_does_not_hold(raw, kfp_type):
    with pytest.raises(ParameterError, match=f"declared {kfp_type}"):
        values.parse(raw, kfp_type, "--param p")


def test_booleans_are_normalised_so_true_is_never_a_silent_false():
    assert values.normalise("True", "BOOLEAN", "p") == "true"


def test_text_argo_would_substitute_is_refused_as_a_param_and_warned_about_as_a_default():
    # SubstituteParams (workflow/common/util.go) rewrites {{...}} inside values; Argo has no escape.
    assert values.argo_tags("a {{workflow.name}} {{ braces }} {{=1+1}} {{item.x}} $HOME") == [
        "{{workflow.name}}", "{{=1+1}}", "{{item.x}}"]
    with pytest.raises(ParameterError, match=r"--param text holds \{\{workflow.name\}\}, which Argo would substitute"):
        values.normalise("run {{workflow.name}}", "STRING", "--param text")
    assert values.normalise("plain {{ braces }}", "STRING", "--param text") == "plain {{ braces }}"

    from kfp import dsl

    @dsl.component(base_image="python:3.11")
    def echo(text: str) -> str:
        return text

    @dsl.pipeline(name="braces")
    def braces(text: str = "made by {{workflow.name}}"):
        echo(text=text)
        echo(text="constant {{pod.name}}")

    _, notes = convert_ir(compile_kfp(braces), ArgoOptions())
    assert any("the default of pipeline parameter 'text' holds {{workflow.name}}" in n for n in notes), notes
    assert any("a constant input holds {{pod.name}}" in n for n in notes), notes
    with pytest.raises(ParameterError, match="--param text holds"):
        convert_ir(compile_kfp(braces), ArgoOptions(parameters={"text": "{{workflow.uid}}"}))


# -- limits ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("schedule", ["a b c d e", "0 3 * *", "61 * * * *", "0 3 * * 8", "*/0 * * * *", "5-1 * * * *"])
def test_schedules_argo_would_refuse_are_refused(schedule):
    with pytest.raises(ParameterError, match="--schedule"):
        limits.check_schedule(schedule)


@pytest.mark.parametrize("schedule", ["0 3 * * *", "*/15 1-5 1,15 JAN-MAR MON-FRI", "@daily", "@every 1h30m",
                                      "CRON_TZ=Europe/Paris 0 3 * * *"])
def test_valid_schedules_pass(schedule):
    limits.check_schedule(schedule)


def test_names_keep_within_argo_and_kubernetes_limits():
    long = "Step_" + "x" * 200
    name = limits.field_name(long)
    assert len(name) <= limits.MAX_FIELD_NAME and limits.FIELD_NAME.fullmatch(name)
    assert limits.field_name(long) != limits.field_name(long + "y")
    label = limits.label_value("a" * 62 + "-b" * 5)
    assert len(label) <= 63 and limits.LABEL_VALUE.fullmatch(label)
    assert limits.label_value("trailing-") == "trailing"
    with pytest.raises(ParameterError, match="52"):
        limits.check_object_name("c" * 53, "CronWorkflow", "--name")


# -- placeholders ----------------------------------------------------------------------------------------------
def context(**overrides):
    base = dict(task="t", kind="Workflow", bucket="b", prefix="p", parameter_types={"x": "STRING"},
                input_artifacts={"a"}, executor_input=lambda: "EI", output_files=set())
    base.update(overrides)
    return placeholders.Context(**base)


def test_every_placeholder_becomes_argo_text():
    c = context()
    assert placeholders.resolve("{{$}}", c) == "EI"
    assert placeholders.resolve("--x={{$.inputs.parameters['x']}}", c) == "--x={{inputs.parameters.x}}"
    # An artifact's key is read from its own JSON inside the template: the DAG passes the artifact only.
    assert placeholders.resolve("{{$.inputs.artifacts['a'].path}}", c) == (
        """/s3/b/{{=sprig.trimPrefix("s3://b/", jsonpath(inputs.parameters["a"], '$.uri'))}}""")
    assert placeholders.resolve("{{$.outputs.artifacts['o'].uri}}", c) == "s3://b/p/{{workflow.name}}/{{pod.name}}/o"
    assert placeholders.resolve("{{$.outputs.parameters['n'].output_file}}", c) == "/tmp/kfp/outputs/parameters/n"
    assert c.output_files == {"n"}
    assert placeholders.resolve("{{$.pipeline_job_schedule_time_utc}}", c) == "{{workflow.creationTimestamp}}"
    assert placeholders.resolve("{{$.pipeline_job_schedule_time_utc}}", context(kind="CronWorkflow")) == (
        "{{workflow.scheduledTime}}")
    assert placeholders.expand('{"IfPresent": {"InputName": "y", "Then": ["--y"], "Else": ["--no-y"]}}', c) == ["--no-y"]
    assert placeholders.expand('{"Concat": ["a", "{{$.inputs.parameters[\'x\']}}"]}', c) == ["a{{inputs.parameters.x}}"]
    with pytest.raises(UnsupportedFeature, match="no Argo equivalent"):
        placeholders.resolve("{{$.pipeline_root}}", c)


def test_executor_input_is_json_once_argo_fills_its_tags():
    text = placeholders.executor_input({"n": "NUMBER_INTEGER"}, {"a": False}, ["p"],
                                       {"o": {"schemaTitle": "system.Model"}}, "b", "root")
    assert "}}" not in text.split("{{=")[1].split("}}")[0][:-1]  # the expression tag closes once
    filled = text.replace(text[text.index("{{="):text.index("}}", text.index("{{=")) + 2], '{"n": 1}')
    filled = filled.replace("{{inputs.parameters.a}}", '{"uri": "s3://b/k"}').replace("{{workflow.name}}", "w")
    document = json.loads(filled.replace("{{pod.name}}", "pod"))
    assert document["outputs"]["artifacts"]["o"]["artifacts"][0]["uri"] == "s3://b/root/w/pod/o"
    assert document["outputs"]["outputFile"] == "/tmp/kfp/outputs/executor_output.json"


def test_string_literals_never_close_an_argo_tag():
    assert "}}" not in refs.string_literal("a}}b{{c") and json.loads(refs.string_literal("q'\"")) == "q'\""


# -- the IR ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mutate, message", [
    (lambda ir: ir["pipeline_spec"].pop("root"), "'root' is missing"),
    (lambda ir: ir["pipeline_spec"]["root"]["dag"]["tasks"]["coin"].pop("componentRef"), "'componentRef' is missing"),
    (lambda ir: ir["pipeline_spec"]["components"].clear(), "which components does not define"),
    (lambda ir: ir["pipeline_spec"]["deploymentSpec"]["executors"].clear(), "deploymentSpec.executors"),
    (lambda ir: ir["pipeline_spec"]["root"]["dag"]["tasks"]["coin"].update(dependentTasks=["nope"]), "'nope'"),
])
def test_a_malformed_ir_is_a_one_line_error(mutate, message):
    ir = compile_kfp(branches)
    mutate(ir)
    with pytest.raises(MalformedIR, match=message) as error:
        convert_ir(ir, ArgoOptions())
    assert "\n" not in str(error.value)


# -- whole pipelines -------------------------------------------------------------------------------------------
def test_every_component_form_compiles_and_validates_strictly(schemas_dir):
    document, warnings = compiled(forms)
    strict(document, schemas_dir)
    found = templates(document)
    make = found["make"]["container"]
    assert make["image"] == "python:3.11-slim" and make["command"][:2] == ["sh", "-c"]
    assert "numpy==2.1.0" in make["command"][2] and "kfp==" in make["command"][2]  # the SDK's own install, verbatim
    assert make["args"][0] == "--executor_input" and '"parameterValues": {{=toJson(' in make["args"][1]
    assert {p["name"] for p in found["make"]["outputs"]["parameters"]} == {"executor-output", "note"}
    copy = found["copy"]["container"]
    assert copy["image"] == "busybox:1.36" and "portway.launcher" not in json.dumps(copy)
    assert copy["command"][2].startswith('cp /s3/portway-artifacts/{{=sprig.trimPrefix("s3://portway-artifacts/", '
                                         """jsonpath(inputs.parameters["source"], '$.uri'))}} /s3/""")
    assert copy["args"][:2] == ["--label", "{{inputs.parameters.label}}"]
    arguments = {a["name"]: a["value"] for a in tasks(document)["copy"]["arguments"]["parameters"]}
    assert "in.csv" in arguments["source"] and "lake" in arguments["source"]  # the importer is a value, not a pod
    assert "importer" not in found
    assert arguments["label"] == "{{workflow.parameters.name}}"
    assert "memoize" not in found["copy-2"] and "memoize" in found["copy"]
    assert any("by tag" in w for w in warnings)


def test_a_pinned_image_is_not_warned_about():
    from kfp import dsl

    @dsl.component(base_image="python@sha256:" + "a" * 64)
    def pinned() -> str:
        return "x"

    @dsl.pipeline(name="pinned")
    def pipeline():
        pinned()

    assert not any("by tag" in w for w in compiled(pipeline)[1])


def test_conditions_are_expressions_a_value_cannot_rewrite(schemas_dir):
    document, _ = compiled(branches)
    strict(document, schemas_dir)
    found = tasks(document)
    for name in ("say", "say-2"):
        assert found[name]["when"].startswith("{{=") and "workflow.parameters[\"word\"]" in found[name]["when"]
        assert found[name]["depends"] == "coin.Succeeded"
    loop = next(t for name, t in templates(document).items() if name.endswith("-loop"))
    assert loop["parallelism"] == 2 and loop["dag"]["tasks"][0]["withItems"] == [1, 2, 3]


# -- issue 11's defects, each with its regression test ----------------------------------------------------------
def test_defect_cron_workflow_needs_a_value_for_every_parameter():
    with pytest.raises(ParameterError, match="data"):
        compiled(forms, kind="CronWorkflow", schedule="0 3 * * *")
    document, _ = compiled(forms, kind="CronWorkflow", schedule="0 3 * * *",
                           parameters={"data": "s3://portway-artifacts/d.csv"})
    assert all("value" in p for p in document["spec"]["workflowSpec"]["arguments"]["parameters"])


def test_defect_retries_use_cap_not_a_deadline_and_never_retry_bad_input():
    strategy = templates(compiled(forms)[0])["make"]["retryStrategy"]
    assert strategy["backoff"] == {"duration": "5s", "factor": 2, "cap": "60s"} and "maxDuration" not in strategy["backoff"]
    assert strategy["expression"] == retries.EXPRESSION == "lastRetry.exitCode != '2'"


def test_defect_one_memoize_configmap_per_step():
    found = templates(compiled(forms)[0])
    names = [t["memoize"]["cache"]["configMap"]["name"] for t in found.values() if "memoize" in t]
    assert len(names) == len(set(names)) >= 3


def test_defect_memoize_key_covers_the_whole_container_spec():
    def key(image):
        document, _ = convert_ir(compile_kfp(branches, image=None), ArgoOptions(image=image))
        return templates(document)["coin"]["memoize"]["key"]

    ir = compile_kfp(branches)
    ir["pipeline_spec"]["deploymentSpec"]["executors"]["exec-coin"]["container"]["image"] = "python:3.12-slim"
    changed = templates(convert_ir(ir, ArgoOptions())[0])["coin"]["memoize"]["key"]
    assert changed != key(None)


def test_defect_names_over_argo_limits_are_shortened_not_rejected(schemas_dir):
    ir = compile_kfp(branches)
    ir["pipeline_spec"]["pipelineInfo"]["name"] = "p" * 120 + "-"
    dag = ir["pipeline_spec"]["root"]["dag"]["tasks"]
    long = "Coin_" + "x" * 200
    dag[long] = dag.pop("coin")
    for task in dag.values():
        text = json.dumps(task).replace('"coin"', json.dumps(long))
        task.clear()
        task.update(json.loads(text))
    document, _ = convert_ir(ir, ArgoOptions(kind="CronWorkflow", schedule="@daily"))
    strict(document, schemas_dir)
    assert len(document["metadata"]["name"]) <= 52
    for label in document["metadata"]["labels"].values():
        assert limits.LABEL_VALUE.fullmatch(label) and len(label) <= 63
    assert all(len(t["name"]) <= 128 and limits.FIELD_NAME.fullmatch(t["name"]) for t in templates(document).values())


def test_defect_params_are_type_checked_and_scheduled_time_only_in_cron_workflows():
    with pytest.raises(ParameterError, match="--param rows is declared NUMBER_INTEGER"):
        compiled(forms, parameters={"rows": "many"})
    document, _ = compiled(forms, parameters={"rows": "7"})
    assert {"name": "rows", "value": "7", "description": "KFP NUMBER_INTEGER"} in document["spec"]["arguments"]["parameters"]
    assert "scheduledTime" not in yaml.safe_dump(document)


def test_the_artifact_repository_manifest_uses_the_default_artifact_root_bucket():
    from pathlib import Path

    from portway.compile.argo import DEFAULT_ARTIFACT_ROOT

    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifests/base/artifact-repositories.yaml").read_text())
    default = manifest["metadata"]["annotations"]["workflows.argoproj.io/default-artifact-repository"]
    repository = yaml.safe_load(manifest["data"][default])
    assert DEFAULT_ARTIFACT_ROOT.startswith(f"s3://{repository['s3']['bucket']}/")


def test_memoize_keys_cover_every_input_but_the_runs_identity():
    from portway.compile.pipelines import load_ir

    document, _ = convert_ir(load_ir("continuous-training"), ArgoOptions())
    for name, template in templates(document).items():
        if "memoize" not in template:
            continue
        declared = {p["name"] for p in template["inputs"]["parameters"]}
        keyed = set(re.findall(r'inputs\.parameters\["([^"]+)"\]', template["memoize"]["key"]))
        passed = {a["name"]: a["value"] for a in tasks(document)[name]["arguments"]["parameters"]}
        per_run = {n for n, v in passed.items() if "{{workflow.name}}" in v}
        assert keyed == declared - per_run, name
    assert "run_id" not in templates(document)["register"]["memoize"]["key"]


def test_collected_outputs_fan_in_through_one_prefix_and_typed_lists(schemas_dir):
    from kfp import dsl
    from kfp.dsl import Dataset, Input, Output

    @dsl.component(base_image="python:3.11-slim")
    def part(x: int, out: Output[Dataset]) -> int:
        return x

    @dsl.component(base_image="python:3.11-slim")
    def gather(parts: Input[list[Dataset]], numbers: list) -> int:
        return len(parts) + sum(numbers)

    @dsl.pipeline(name="fan-in")
    def fan_in():
        with dsl.ParallelFor(items=[1, 2]) as x:
            made = part(x=x)
        gather(parts=dsl.Collected(made.outputs["out"]), numbers=dsl.Collected(made.outputs["Output"]))

    document, warnings = compiled(fan_in)
    strict(document, schemas_dir)
    found = templates(document)
    # Each iteration writes under the producer's own prefix, which the collecting step downloads whole.
    (out,) = found["part"]["outputs"]["artifacts"]
    assert out["s3"]["key"] == "pipelines/{{workflow.name}}/part/{{pod.name}}/out" and "memoize" not in found["part"]
    assert any("collected" in w for w in warnings)
    arguments = {a["name"]: a["value"] for a in tasks(document)["gather"]["arguments"]["parameters"]}
    assert arguments["parts-key"] == "pipelines/{{workflow.name}}/part"
    assert arguments["numbers"] == """{{=toJson(jsonpath(tasks["for-loop-2"].outputs.parameters["pipelinechannel--part-Output"], '$[*].v'))}}"""
    gather_input = {a["name"]: a for a in found["gather"]["inputs"]["artifacts"]}["parts"]
    assert gather_input["optional"] and gather_input["s3"]["key"] == "{{inputs.parameters.parts-key}}"
    assert '"parts": {"artifacts": {{inputs.parameters.parts}}}' in found["gather"]["container"]["args"][1]
    body = next(t for t in found.values() if t["name"].endswith("-body"))
    values = {p["name"]: p["valueFrom"]["expression"] for p in body["outputs"]["parameters"]}
    assert values["pipelinechannel--part-Output"].startswith("toJson({'v': asInt(")


def test_container_components_get_their_output_folders_and_metrics_need_no_file(schemas_dir):
    document, _ = compiled(forms)
    copy = templates(document)["copy"]
    folders = {a["name"]: a["path"] for a in copy["inputs"]["artifacts"] if a["name"].endswith("-folder")}
    assert folders == {"kfp-output-artifacts-folder": "/s3/portway-artifacts/pipelines/{{workflow.name}}/{{pod.name}}/.folder",
                       "kfp-output-parameters-folder": "/tmp/kfp/outputs/parameters/.folder"}
    assert not any(a["name"].endswith("-folder") for a in templates(document)["make"]["inputs"]["artifacts"])
    from portway.compile.pipelines import load_ir

    evaluate = templates(convert_ir(load_ir("continuous-training"), ArgoOptions())[0])["evaluate"]
    optional = {a["name"] for a in evaluate["outputs"]["artifacts"] if a.get("optional")}
    assert optional == {"metrics", "classification_metrics"}


def test_exit_handlers_are_exit_hooks_with_the_groups_final_status(schemas_dir):
    from kfp import dsl

    @dsl.component(base_image="python:3.11-slim")
    def work(text: str) -> str:
        return text

    @dsl.component(base_image="python:3.11-slim")
    def notify(channel: str, status: dsl.PipelineTaskFinalStatus) -> str:
        return f"{channel}:{status.state}"

    @dsl.pipeline(name="with-exit")
    def with_exit(text: str = "hi"):
        with dsl.ExitHandler(notify(channel="#ops")):
            work(text=text)

    document, _ = compiled(with_exit)
    strict(document, schemas_dir)
    (group,) = [t for t in tasks(document).values() if t["template"].endswith("-dag")]
    # The group stays one DAG task (its failure fails the run); the exit task is its exit hook.
    hook = group["hooks"]["exit"]
    assert hook["template"] == "notify" and "notify" not in tasks(document)
    status = {a["name"]: a["value"] for a in hook["arguments"]["parameters"]}["status"]
    assert f"tasks[\"{group['name']}\"].status == 'Failed'" in status and "'state':" in status
    assert '"status": {{=toJson({' not in templates(document)["notify"]["container"]["args"][1]
    assert "jsonpath(inputs.parameters[\"status\"], '$')" in templates(document)["notify"]["container"]["args"][1]


def test_an_optional_pipeline_input_without_default_is_none_when_left_empty(schemas_dir):
    from kfp import dsl

    @dsl.component(base_image="python:3.11-slim")
    def greet(name: str, greeting: Optional[str] = None, loud: bool = False) -> str:  # noqa: UP045 (KFP reads it)
        return f"{greeting or 'Hello'} {name}"

    @dsl.pipeline(name="optional-input")
    def optional_input(name: str = "Ada", greeting: Optional[str] = None, loud: bool = False):  # noqa: UP045
        with dsl.If(loud == True):  # noqa: E712 (a KFP condition)
            greet(name=name, greeting=greeting, loud=loud)

    document, _ = compiled(optional_input)
    strict(document, schemas_dir)
    arguments = {p["name"]: p for p in document["spec"]["arguments"]["parameters"]}
    assert arguments["greeting"] == {"name": "greeting", "value": "", "description": "KFP STRING, optional: empty means None"}
    executor_input = templates(document)["greet"]["container"]["args"][1]
    assert """"greeting": (inputs.parameters["greeting"] == '' ? nil : inputs.parameters["greeting"])""" in executor_input
    # A boolean written the Python way ("True", e.g. by `argo submit -p`) is true, in conditions and inputs alike.
    assert "lower(workflow.parameters[\"loud\"]) == 'true'" in tasks(document)["greet"]["when"]


def test_a_large_pipeline_shares_one_template_per_distinct_step(schemas_dir):
    from kfp import dsl

    from portway.compile.argo.sharing import SHARE_ABOVE, TASK_PARAMETER

    @dsl.component(base_image="python:3.11-slim")
    def step(x: int) -> int:
        return x + 1

    @dsl.pipeline(name="chain")
    def chain(x: int = 1):
        previous = step(x=x)
        for _ in range(199):
            previous = step(x=previous.output)

    document, _ = compiled(chain)
    strict(document, schemas_dir)
    size = limits.check_size(document)
    assert size < SHARE_ABOVE < limits.MAX_DOCUMENT_BYTES, size  # 200 templates would be about 400 KiB
    # Two distinct steps: the first reads a pipeline parameter, the other 199 their upstream's output.
    containers = [t for t in templates(document).values() if "container" in t]
    assert len(containers) == 2 and {c["metadata"]["labels"]["portway.dev/step"] for c in containers} == {
        "{{inputs.parameters.kfp-task}}"}
    labels = [{a["name"]: a["value"] for a in t["arguments"]["parameters"]}[TASK_PARAMETER] for t in tasks(document).values()]
    assert len(set(labels)) == 200 and "step-200" in labels


def test_kfp_kubernetes_pvcs_and_node_affinity_become_argo_resources_and_template_fields(schemas_dir):
    from kfp import dsl, kubernetes

    @dsl.component(base_image="python:3.11-slim")
    def write(path: str):
        open(path, "w").write("x")

    @dsl.pipeline(name="pvc")
    def pvc_pipeline():
        pvc = kubernetes.CreatePVC(pvc_name_suffix="-data", access_modes=["ReadWriteOnce"], size="1Gi")
        task = write(path="/data/x")
        kubernetes.mount_pvc(task, pvc_name=pvc.outputs["name"], mount_path="/data")
        kubernetes.add_node_affinity(task, match_expressions=[
            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}])
        kubernetes.DeletePVC(pvc_name=pvc.outputs["name"]).after(task)

    document, warnings = compiled(pvc_pipeline)
    strict(document, schemas_dir)
    assert not any("pvcMount" in w or "nodeAffinity" in w for w in warnings), warnings
    found = templates(document)
    create = found["createpvc"]["resource"]
    assert create["action"] == "create" and json.loads(create["manifest"].replace(
        "{{inputs.parameters.access_modes}}", '["ReadWriteOnce"]'))["metadata"]["name"] == (
        "{{workflow.name}}{{inputs.parameters.pvc_name_suffix}}")
    assert found["deletepvc"]["resource"]["action"] == "delete"
    write_template = found["write"]
    assert {"name": "pvc-0", "persistentVolumeClaim": {"claimName": "{{inputs.parameters.pvc-0}}"}} in write_template["volumes"]
    assert {"name": "pvc-0", "mountPath": "/data"} in write_template["container"]["volumeMounts"]
    assert write_template["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}]}
    arguments = {a["name"]: a["value"] for a in tasks(document)["write"]["arguments"]["parameters"]}
    assert arguments["pvc-0"] == "{{tasks.createpvc.outputs.parameters.name}}"
    assert '"pvc-0"' not in write_template["container"]["args"][1]  # not a KFP input
    assert tasks(document)["write"]["depends"] == "createpvc.Succeeded"


def test_loops_over_artifacts_and_exit_tasks_that_are_pipelines(schemas_dir):
    from kfp import dsl
    from kfp.dsl import Dataset, Input, Output

    @dsl.component(base_image="python:3.11-slim")
    def part(x: int, out: Output[Dataset]):
        open(out.path, "w").write(str(x))

    @dsl.component(base_image="python:3.11-slim")
    def size(data: Input[Dataset]) -> int:
        return len(open(data.path).read())

    @dsl.component(base_image="python:3.11-slim")
    def say(text: str) -> str:
        return text

    @dsl.pipeline(name="cleanup")
    def cleanup():
        say(text="bye")

    @dsl.pipeline(name="sizes")
    def sizes(datasets: Input[List[Dataset]]):  # noqa: UP006 (KFP reads typing.List)
        with dsl.ParallelFor(items=datasets) as data:
            size(data=data)

    @dsl.pipeline(name="artifact-loop")
    def artifact_loop():
        with dsl.ExitHandler(cleanup()):
            with dsl.ParallelFor(items=[1, 2]) as x:
                made = part(x=x)
            sizes(datasets=dsl.Collected(made.outputs["out"]))

    document, _ = compiled(artifact_loop)
    strict(document, schemas_dir)
    loops = [t for t in tasks(document).values() if "withParam" in t]
    assert len(loops) == 1 and loops[0]["withParam"].startswith("{{tasks.for-loop-")
    size_arguments = {a["name"]: a["value"] for a in tasks(document)["size"]["arguments"]["parameters"]}
    assert list(size_arguments) == ["data"]  # each item's JSON; its key is read from its URI in the template
    (size_artifact,) = [a for a in templates(document)["size"]["inputs"]["artifacts"] if a["name"] == "data"]
    assert size_artifact["s3"]["key"] == (
        """{{=sprig.trimPrefix("s3://portway-artifacts/", jsonpath(inputs.parameters["data"], '$.uri'))}}""")
    (group,) = [t for t in tasks(document).values() if "hooks" in t]
    hook_template = templates(document)[group["hooks"]["exit"]["template"]]
    assert [t["template"] for t in hook_template["dag"]["tasks"]] == ["say"]  # the exit pipeline's own DAG


def test_node_affinity_keeps_each_term_with_its_own_weight():
    """A weighted (preferred) term and an unweighted (required) one stay apart whatever their order, and a
    term without matchExpressions does not shift the others."""
    from portway.compile.argo.kubernetes import template_settings

    zone = [{"key": "zone", "operator": "In", "values": ["a"]}]
    gpu = [{"key": "gpu", "operator": "Exists"}]
    platform = {"nodeAffinity": [{"weight": 5}, {"matchExpressions": zone}, {"weight": 3, "matchExpressions": gpu}]}
    affinity = template_settings(platform, "t", lambda _: None)["affinity"]["nodeAffinity"]
    assert affinity["requiredDuringSchedulingIgnoredDuringExecution"] == {"nodeSelectorTerms": [{"matchExpressions": zone}]}
    assert affinity["preferredDuringSchedulingIgnoredDuringExecution"] == [
        {"weight": 3, "preference": {"matchExpressions": gpu}}]
