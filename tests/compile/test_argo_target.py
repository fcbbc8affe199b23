"""Argo target: golden files, Argo v4's schema in strict mode, and properties of the compiled workflow."""

# No `from __future__ import annotations`: KFP reads the components' annotations as types.
import json
import re
import warnings

import pytest
import yaml
from argo_local import evaluate_when, substitute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kfp import dsl, kubernetes
from portway.pipelines.continuous_training import build_pipeline, continuous_training
from portway.pipelines.hyperparameter_search import build_search_pipeline
from schema_tools import crd_validator, schema_json_validator, validate_strict

from portway.compile.argo_target import (
    ARTIFACT_ROOT_PARAMETER,
    DEFAULT_SERVICE_ACCOUNT,
    MAX_DOCUMENT_BYTES,
    ArgoOptions,
    ArgoTargetWarning,
    UnsupportedFeature,
    check_size,
    compile_argo,
)
from portway.config import (
    DEFAULT_IMAGE,
    DEFAULT_RESOURCES,
    GPU_RESOURCE,
    GPU_TAINT,
    NODE_POOL_LABEL,
    ResourceSpec,
)
from portway.errors import ParameterError

from .goldens import check_golden

CRDS = "argo-workflows/v4.1.2/crds-full/argoproj.io_{}.yaml"
CRD_OF = {"Workflow": "workflows", "WorkflowTemplate": "workflowtemplates", "CronWorkflow": "cronworkflows"}


def compile_quietly(pipeline, **options) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ArgoTargetWarning)  # the project's pipelines drop nothing
        return compile_argo(pipeline, ArgoOptions(**options))


@pytest.fixture(scope="module")
def workflow() -> dict:
    return compile_quietly(continuous_training)


def pod_templates(document: dict) -> dict[str, dict]:
    spec = document["spec"].get("workflowSpec", document["spec"])
    return {t["name"]: t for t in spec["templates"] if "script" in t or "container" in t}


def dag_tasks(document: dict) -> dict[str, dict]:
    spec = document["spec"].get("workflowSpec", document["spec"])
    return {task["name"]: task for t in spec["templates"] if "dag" in t for task in t["dag"]["tasks"]}


def body(template: dict) -> dict:
    return template.get("script") or template["container"]


# -- goldens and schema --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, pipeline, options", [
    ("continuous_training.argo.yaml", lambda: continuous_training, {}),
    ("continuous_training.cron.argo.yaml", lambda: continuous_training,
     {"kind": "CronWorkflow", "schedule": "0 3 * * *", "timezone": "Europe/Paris", "team": "churn-ml",
      "namespace": "ml"}),
    ("hyperparameter_search.argo.yaml", lambda: build_search_pipeline(4, parallelism=2), {}),
])
def test_matches_golden(name, pipeline, options, update_goldens):
    check_golden(name, [compile_quietly(pipeline(), **options)], update_goldens)


@pytest.mark.parametrize("kind", ["Workflow", "WorkflowTemplate", "CronWorkflow"])
def test_every_kind_validates_strictly_against_argo_v4(kind, schemas_dir):
    options = {"kind": kind, "schedule": "0 3 * * *"} if kind == "CronWorkflow" else {"kind": kind}
    for pipeline in (continuous_training, build_search_pipeline(3)):
        document = compile_quietly(pipeline, s3_secret="minio-creds", s3_endpoint="http://minio.minio:9000", **options)
        assert document["kind"] == kind
        validate_strict(document, crd_validator(schemas_dir / CRDS.format(CRD_OF[kind])))
        validate_strict(document, schema_json_validator(schemas_dir / "argo-workflows/v4.1.2/schema.json",
                                                        f"io.argoproj.workflow.v1alpha1.{kind}"))


def test_schema_check_catches_a_misplaced_field(workflow, schemas_dir):
    broken = json.loads(json.dumps(workflow))
    pod_templates(broken)["train"]["script"]["nodeSelector"] = {"x": "y"}  # belongs on the template
    with pytest.raises(AssertionError, match="'nodeSelector' was unexpected"):
        validate_strict(broken, crd_validator(schemas_dir / CRDS.format("workflows")))


# -- what carries over ------------------------------------------------------------------------------------------
def test_train_has_gpu_limits_a_matching_toleration_and_the_node_selector(workflow):
    templates = pod_templates(workflow)
    train = templates["train"]
    assert body(train)["resources"]["limits"][GPU_RESOURCE] == str(DEFAULT_RESOURCES["train"].gpu)
    assert train["tolerations"] == [GPU_TAINT]
    assert train["nodeSelector"] == {NODE_POOL_LABEL: DEFAULT_RESOURCES["train"].node_pool}
    for name, template in templates.items():
        if name != "train":
            assert GPU_RESOURCE not in body(template)["resources"].get("limits", {}), name
            assert "tolerations" not in template and "nodeSelector" not in template, name


def test_every_pod_template_requests_cpu_and_memory_and_runs_locked_down(workflow):
    templates = pod_templates(workflow)
    assert set(templates) == set(DEFAULT_RESOURCES)
    for name, template in templates.items():
        spec, container = DEFAULT_RESOURCES[name], body(template)
        assert container["resources"]["requests"] == {"cpu": spec.cpu, "memory": spec.memory}, name
        assert container["image"] == DEFAULT_IMAGE and container["command"] == ["python", "-m", "portway.launcher"]
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] and security["runAsNonRoot"], name
        assert not security["allowPrivilegeEscalation"] and security["capabilities"]["drop"] == ["ALL"], name
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name
        assert template["metadata"]["labels"]["portway.dev/run"] == "{{workflow.name}}"


def test_register_runs_only_under_the_gate(workflow):
    tasks = dag_tasks(workflow)
    register, failed = tasks["register"], tasks["gate-failed"]
    assert "evaluate" in register["depends"].split(" && ")
    for passed in (True, False):
        scope = {"tasks.evaluate.outputs.parameters.passed": json.dumps(passed)}
        assert evaluate_when(substitute(register["when"], scope)) is passed
        assert evaluate_when(substitute(failed["when"], scope)) is (not passed)
    conditional = {name for name, task in tasks.items() if "when" in task}
    assert conditional == {"register", "gate-failed"}
    outputs = {p["name"]: p["valueFrom"] for p in workflow["spec"]["templates"][0]["outputs"]["parameters"]}
    assert "register" in outputs["registration"]["expression"] and "gate-failed" in outputs["registration"]["expression"]


def test_dag_keeps_the_kfp_dependencies(workflow):
    tasks = dag_tasks(workflow)
    depends = {name: set(task.get("depends", "").split(" && ")) - {""} for name, task in tasks.items()}
    assert depends["process"] == set()
    assert depends["train"] == {"process"}
    assert depends["evaluate"] == {"process", "train"}
    assert tasks["train"]["arguments"]["parameters"][-1] == {
        "name": "validation_data", "value": "{{tasks.process.outputs.parameters.validation_data}}"}


def test_retries_become_retry_strategies_with_backoff(workflow):
    from portway.config import RETRIES, RETRY_BACKOFF_FACTOR, RETRY_BACKOFF_MAX_SECONDS, RETRY_BACKOFF_SECONDS

    for name, template in pod_templates(workflow).items():
        if name in RETRIES:
            assert template["retryStrategy"] == {
                "limit": RETRIES[name], "retryPolicy": "Always",
                "backoff": {"duration": f"{RETRY_BACKOFF_SECONDS}s", "factor": int(RETRY_BACKOFF_FACTOR),
                            "maxDuration": f"{RETRY_BACKOFF_MAX_SECONDS}s"}}
        else:
            assert "retryStrategy" not in template, name


def test_workflow_level_settings(workflow):
    spec = workflow["spec"]
    assert workflow["metadata"]["generateName"] == "continuous-training-"
    assert spec["serviceAccountName"] == DEFAULT_SERVICE_ACCOUNT
    assert spec["activeDeadlineSeconds"] > 0 and spec["podGC"]["strategy"] == "OnPodSuccess"
    assert spec["ttlStrategy"]["secondsAfterSuccess"] > 0
    assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["runAsUser"] == 10001
    labels = {"portway.dev/pipeline": "continuous-training", "portway.dev/team": "unassigned"}
    assert workflow["metadata"]["labels"] == labels and spec["podMetadata"]["labels"] == labels
    assert spec["workflowMetadata"]["labelsFrom"] == {"portway.dev/run": {"expression": "workflow.name"}}
    arguments = {p["name"]: p.get("value") for p in spec["arguments"]["parameters"]}
    assert arguments["data_uri"] is None  # required: given at submit time
    assert arguments["max_depth"] == "6" and arguments["threshold"] == "0.8" and arguments["feature_types"] == "{}"
    assert arguments[ARTIFACT_ROOT_PARAMETER].startswith("s3://")


def test_s3_credentials_come_from_a_secret_reference_never_literals():
    document = compile_quietly(continuous_training, s3_secret="minio-creds", s3_endpoint="http://minio:9000")
    for template in pod_templates(document).values():
        env = {e["name"]: e for e in body(template)["env"]}
        assert env["AWS_ENDPOINT_URL"]["value"] == "http://minio:9000"
        for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            assert env[variable] == {"name": variable, "valueFrom": {"secretKeyRef": {"name": "minio-creds",
                                                                                        "key": variable}}}
    default = compile_quietly(continuous_training)  # IRSA: nothing but the service account
    assert not any(e["name"].startswith("AWS_") for t in pod_templates(default).values() for e in body(t)["env"])


def test_compile_time_parameters_become_argument_values():
    document = compile_quietly(continuous_training, parameters={"data_uri": "s3://b/d.csv", "max_depth": "3"})
    arguments = {p["name"]: p.get("value") for p in document["spec"]["arguments"]["parameters"]}
    assert arguments["data_uri"] == "s3://b/d.csv" and arguments["max_depth"] == "3"


# -- memoize ------------------------------------------------------------------------------------------------------
def memo_key(template: dict, inputs: dict) -> str:
    scope = {f"inputs.parameters.{k}": v for k, v in inputs.items()}
    return substitute(template["memoize"]["key"], scope)


_values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_memoize_keys_differ_when_an_input_differs(workflow, data):
    templates = pod_templates(workflow)
    name = data.draw(st.sampled_from(sorted(templates)))
    template = templates[name]
    declared = [p["name"] for p in template["inputs"]["parameters"]]
    names = [n for n in declared if f"inputs.parameters['{n}']" in template["memoize"]["key"]]
    # every input is in the key except the run's own name (register's run_id), as in kfp.local
    assert set(declared) - set(names) == ({"run_id"} if name == "register" else set())
    inputs = {n: data.draw(_values, label=n) for n in declared}
    changed_name = data.draw(st.sampled_from(names))
    changed = {**inputs, changed_name: data.draw(_values.filter(lambda v: v != inputs[changed_name]))}
    key = memo_key(template, inputs)
    assert key == memo_key(template, dict(inputs))  # stable
    assert key != memo_key(template, changed)
    # Argo's cache key rule (ConfigMap keys): ^[a-zA-Z0-9][-a-zA-Z0-9]*$, at most 253 characters
    assert re.fullmatch(r"[a-zA-Z0-9][-a-zA-Z0-9]*", key) and len(key) <= 253
    assert template["memoize"]["maxAge"] == "168h"


def test_memoize_key_covers_code_and_image():
    base = compile_quietly(continuous_training)
    other_image = compile_quietly(continuous_training, image="ghcr.io/portway-ml/portway:9.9.9")
    inputs = {p["name"]: "x" for p in pod_templates(base)["train"]["inputs"]["parameters"]}
    assert memo_key(pod_templates(base)["train"], inputs) != memo_key(pod_templates(other_image)["train"], inputs)
    process, evaluate = pod_templates(base)["process"]["memoize"]["key"], pod_templates(base)["evaluate"]["memoize"]["key"]
    assert re.search(r"\['([0-9a-f]{12})'", process).group(1) != re.search(r"\['([0-9a-f]{12})'", evaluate).group(1)


# -- resource spec (property) -----------------------------------------------------------------------------------
_cpu = st.sampled_from(["100m", "250m", "1", "2", "3500m", "16"])
_memory = st.sampled_from(["128Mi", "1Gi", "7Gi", "64Gi"])


@settings(max_examples=8, deadline=None)
@given(cpu=_cpu, memory=_memory, gpu=st.integers(0, 8), pool=st.sampled_from([None, "gpu", "gpu-a100"]),
       process_cpu=_cpu)
def test_any_resource_spec_reaches_the_argo_templates(cpu, memory, gpu, pool, process_cpu):
    resources = {"train": ResourceSpec(cpu=cpu, memory=memory, gpu=gpu, node_pool=pool),
                 "process": ResourceSpec(cpu=process_cpu, memory="1Gi")}
    templates = pod_templates(compile_quietly(build_pipeline(resources=resources)))
    train = templates["train"]
    assert body(train)["resources"]["requests"] == {"cpu": cpu, "memory": memory}
    assert body(train)["resources"]["limits"].get(GPU_RESOURCE) == (str(gpu) if gpu else None)
    assert train.get("tolerations") == ([GPU_TAINT] if gpu else None)
    assert train.get("nodeSelector") == ({NODE_POOL_LABEL: pool} if pool else None)
    assert body(templates["process"])["resources"]["requests"]["cpu"] == process_cpu


# -- fan-out --------------------------------------------------------------------------------------------------------
def test_a_200_way_fan_out_stays_one_loop_far_under_the_object_limit(schemas_dir):
    small = compile_quietly(build_search_pipeline(10))
    large = compile_quietly(build_search_pipeline(200))
    size = check_size(large)
    assert size < MAX_DOCUMENT_BYTES / 10, size
    assert [t["name"] for t in large["spec"]["templates"]] == [t["name"] for t in small["spec"]["templates"]]
    loops = [task for task in dag_tasks(large).values() if "withParam" in task]
    assert [loop["withParam"] for loop in loops] == ["{{workflow.parameters.candidates}}"]
    candidates = next(p for p in large["spec"]["arguments"]["parameters"] if p["name"] == "candidates")
    assert len(json.loads(candidates["value"])) == 200
    driver = next(t for t in large["spec"]["templates"] if t.get("parallelism"))
    assert driver["parallelism"] == 4
    train_arguments = {p["name"]: p["value"] for p in dag_tasks(large)["train"]["arguments"]["parameters"]}
    assert train_arguments["max_depth"] == "{{inputs.parameters.pipelinechannel--candidates-loop-item-max_depth}}"
    validate_strict(large, crd_validator(schemas_dir / CRDS.format("workflows")))


def test_an_oversized_document_is_refused():
    document = {"kind": "Workflow", "spec": {"arguments": {"parameters": [{"name": "x", "value": "y" * MAX_DOCUMENT_BYTES}]}}}
    with pytest.raises(ParameterError, match="Kubernetes stores objects up to about"):
        check_size(document)


# -- what does not carry over is named -------------------------------------------------------------------------
@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def echo(text: str) -> str:
    return text


def test_settings_the_argo_target_cannot_express_are_named_in_warnings():
    @dsl.pipeline(name="odd-settings")
    def odd(text: str = "hi"):
        task = echo(text=text)  # no resources set
        kubernetes.mount_pvc(task, pvc_name="scratch", mount_path="/scratch")
        kubernetes.use_secret_as_env(task, secret_name="api", secret_key_to_env={"token": "API_TOKEN"})
        task.set_retry(num_retries=2, backoff_factor=1.5)

    with pytest.warns(ArgoTargetWarning) as caught:
        document = compile_argo(odd)
    messages = [str(w.message) for w in caught]
    assert any("'pvcMount' is not carried over" in m for m in messages), messages
    assert any("sets no CPU/memory request" in m and "cpu=500m" in m for m in messages), messages
    assert any("backoff factor is an integer; 1.5 becomes 2" in m for m in messages), messages
    template = pod_templates(document)["echo"]
    assert {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token", "optional": False}}} in (
        body(template)["env"])
    assert body(template)["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}


def test_container_components_and_exit_handlers_are_refused_with_a_reason():
    @dsl.container_component
    def shell():
        return dsl.ContainerSpec(image="busybox", command=["true"])

    @dsl.pipeline(name="with-container")
    def with_container():
        shell()

    with pytest.raises(UnsupportedFeature, match="not a Python function component"):
        compile_argo(with_container)

    @dsl.pipeline(name="with-exit")
    def with_exit():
        with dsl.ExitHandler(echo(text="bye")):
            echo(text="hi")

    with pytest.raises(UnsupportedFeature, match="ExitHandler"):
        compile_argo(with_exit)


@pytest.mark.parametrize("options, message", [
    ({"kind": "Job"}, "--kind 'Job' is not supported"),
    ({"kind": "CronWorkflow"}, "--kind CronWorkflow needs --schedule"),
    ({"schedule": "0 3 * * *"}, "--schedule applies to --kind CronWorkflow"),
    ({"kind": "CronWorkflow", "schedule": "every day"}, "is not a cron expression"),
    ({"cache_max_age": "a week"}, "--cache-max-age 'a week' is not a duration"),
    ({"active_deadline_seconds": 0}, "--active-deadline-seconds must be a positive whole number"),
    ({"artifact_root": "/local/dir"}, "must be an s3://bucket/prefix URI"),
    ({"namespace": "ML_Team"}, "--namespace 'ML_Team' is not a Kubernetes name"),
    ({"team": "a/b"}, "--team 'a/b' is not allowed"),
    ({"parameters": {"depth": "3"}}, "--param depth is not a parameter of continuous-training"),
])
def test_bad_options_are_refused_with_the_field_named(options, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        compile_argo(continuous_training, ArgoOptions(**options))


def test_golden_yaml_is_plain_yaml(workflow):
    assert yaml.safe_load(yaml.safe_dump(workflow)) == workflow


def test_unknown_ir_fields_are_named_not_dropped():
    from portway.compile.argo_target import convert_ir
    from portway.compile.kfp_target import compile_kfp

    compiled = compile_kfp(continuous_training)
    compiled["pipeline_spec"]["defaultPipelineRoot"] = "gs://bucket/root"
    executor = compiled["pipeline_spec"]["deploymentSpec"]["executors"]["exec-process"]["container"]
    executor["lifecycle"] = {"preCacheCheck": {"command": ["true"]}}
    compiled["pipeline_spec"]["root"]["dag"]["tasks"]["process"]["futureField"] = {}
    _, notes = convert_ir(compiled)
    assert any("'gs://bucket/root' is not used" in n for n in notes), notes
    assert any("task 'process': container field 'lifecycle'" in n for n in notes), notes
    assert any("task 'process': IR field 'futureField' is not carried over" in n for n in notes), notes


def test_source_with_template_braces_travels_encoded_and_still_runs(tmp_path):
    from argo_local import LocalArgo

    from .sample_pipelines import braces

    document = compile_quietly(braces)
    container = pod_templates(document)["wrap"]["container"]  # not a script: Argo would substitute its source
    assert any(a.startswith("--source-b64=") for a in container["args"])
    assert "{{{{" not in json.dumps(document)
    run = LocalArgo(tmp_path).run(document, {"name": "abc"})
    assert run.phase == "Succeeded", [n.log for n in run.nodes]
    assert run.node(f"{run.name}.wrap").outputs == {"Output": "{{abc}}"}
