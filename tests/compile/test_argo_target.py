"""Argo target on the bundled pipelines: golden files, Argo v4's schema in strict mode, properties of the workflow."""

# No `from __future__ import annotations`: KFP reads the components' annotations as types.
import json
import re
import warnings

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from kfp import dsl, kubernetes
from portway.pipelines.continuous_training import build_pipeline, continuous_training
from portway.pipelines.hyperparameter_search import build_search_pipeline
from schema_tools import crd_validator, schema_json_validator, validate_strict

from portway.compile.argo import (
    DEFAULT_SERVICE_ACCOUNT,
    MAX_DOCUMENT_BYTES,
    ArgoOptions,
    ArgoTargetWarning,
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
    return {t["name"]: t for t in spec["templates"] if "container" in t}


def dag_tasks(document: dict) -> dict[str, dict]:
    spec = document["spec"].get("workflowSpec", document["spec"])
    return {task["name"]: task for t in spec["templates"] if "dag" in t for task in t["dag"]["tasks"]}


def body(template: dict) -> dict:
    return template["container"]


# -- goldens and schema --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, pipeline, options", [
    ("continuous_training.argo.yaml", lambda: continuous_training, {}),
    ("continuous_training.cron.argo.yaml", lambda: continuous_training,
     {"kind": "CronWorkflow", "schedule": "0 3 * * *", "timezone": "Europe/Paris", "team": "churn-ml",
      "namespace": "ml", "parameters": {"data_uri": "s3://portway-data/churn/current.csv"}}),
    ("hyperparameter_search.argo.yaml", lambda: build_search_pipeline(4, parallelism=2), {}),
])
def test_matches_golden(name, pipeline, options, update_goldens):
    check_golden(name, [compile_quietly(pipeline(), **options)], update_goldens)


@pytest.mark.parametrize("kind", ["Workflow", "WorkflowTemplate", "CronWorkflow"])
def test_every_kind_validates_strictly_against_argo_v4(kind, schemas_dir):
    options = ({"kind": kind, "schedule": "0 3 * * *", "parameters": {"data_uri": "s3://b/d.csv"}}
               if kind == "CronWorkflow" else {"kind": kind})
    for pipeline in (continuous_training, build_search_pipeline(3)):
        document = compile_quietly(pipeline, s3_secret="minio-creds", s3_endpoint="http://minio.minio:9000", **options)
        assert document["kind"] == kind
        validate_strict(document, crd_validator(schemas_dir / CRDS.format(CRD_OF[kind])))
        validate_strict(document, schema_json_validator(schemas_dir / "argo-workflows/v4.1.2/schema.json",
                                                        f"io.argoproj.workflow.v1alpha1.{kind}"))


def test_schema_check_catches_a_misplaced_field(workflow, schemas_dir):
    broken = json.loads(json.dumps(workflow))
    pod_templates(broken)["train"]["container"]["nodeSelector"] = {"x": "y"}  # belongs on the template
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
        # The IR's own command: KFP's executor on the component source, in the project image.
        assert container["image"] == DEFAULT_IMAGE and "kfp.dsl.executor_main" in " ".join(container["command"])
        assert container["args"][:1] == ["--executor_input"] and "portway.launcher" not in json.dumps(container)
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] and security["runAsNonRoot"], name
        assert not security["allowPrivilegeEscalation"] and security["capabilities"]["drop"] == ["ALL"], name
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name
        assert template["securityContext"]["runAsUser"] == 10001 and template["securityContext"]["runAsNonRoot"]
        assert template["metadata"]["labels"]["portway.dev/run"] == "{{workflow.name}}"


def test_register_runs_only_under_the_gate(workflow):
    tasks = dag_tasks(workflow)
    register, failed = tasks["register"], tasks["gate-failed"]
    assert "evaluate.Succeeded" in register["depends"].split(" && ")
    # One expression tag over the evaluate step's typed output: a value cannot rewrite the condition.
    passed = 'jsonpath(tasks["evaluate"].outputs.parameters["executor-output"], "$.parameterValues.passed")'
    assert register["when"] == "{{=(lower(toJson(" + passed + ")) == 'true') == true}}"
    assert failed["when"] == "{{=!((lower(toJson(" + passed + ")) == 'true') == true)}}"
    conditional = {name for name, task in tasks.items() if "when" in task}
    assert conditional == {"register", "gate-failed"}
    outputs = {p["name"]: p["valueFrom"] for p in workflow["spec"]["templates"][0]["outputs"]["parameters"]}
    assert "register" in outputs["registration"]["expression"] and "gate-failed" in outputs["registration"]["expression"]


def test_dag_keeps_the_kfp_dependencies(workflow):
    tasks = dag_tasks(workflow)
    depends = {name: set(task.get("depends", "").split(" && ")) - {""} for name, task in tasks.items()}
    assert depends["process"] == set()
    assert depends["train"] == {"process.Succeeded"}
    assert depends["evaluate"] == {"process.Succeeded", "train.Succeeded"}
    arguments = {a["name"]: a["value"] for a in tasks["train"]["arguments"]["parameters"]}
    # process's executor output is passed once; the template picks each of its inputs out of it (picks.py).
    assert arguments["upstream-0"] == "{{tasks.process.outputs.parameters.executor-output}}"
    assert not {"train_data", "validation_data", "profile"} & set(arguments)
    train = next(t for t in workflow["spec"]["templates"] if t["name"] == "train")
    declared = {p["name"]: p.get("default") for p in train["inputs"]["parameters"]}
    assert declared["validation_data-from"] == "$.artifacts.validation_data.artifacts[0]"
    assert "validation_data-key" not in arguments and "validation_data-key" not in declared


def test_retries_become_retry_strategies_with_backoff(workflow):
    from portway.config import RETRIES, RETRY_BACKOFF_FACTOR, RETRY_BACKOFF_MAX_SECONDS, RETRY_BACKOFF_SECONDS

    for name, template in pod_templates(workflow).items():
        if name in RETRIES:
            assert template["retryStrategy"] == {
                "limit": RETRIES[name], "retryPolicy": "Always", "expression": "lastRetry.exitCode != '2'",
                "backoff": {"duration": f"{RETRY_BACKOFF_SECONDS}s", "factor": int(RETRY_BACKOFF_FACTOR),
                            "cap": f"{RETRY_BACKOFF_MAX_SECONDS}s"}}
        else:
            assert "retryStrategy" not in template, name


def test_workflow_level_settings(workflow):
    spec = workflow["spec"]
    assert workflow["metadata"]["generateName"] == "continuous-training-"
    assert spec["serviceAccountName"] == DEFAULT_SERVICE_ACCOUNT
    assert spec["activeDeadlineSeconds"] > 0 and spec["podGC"]["strategy"] == "OnPodSuccess"
    assert spec["ttlStrategy"]["secondsAfterSuccess"] > 0
    labels = {"portway.dev/pipeline": "continuous-training", "portway.dev/team": "unassigned"}
    assert workflow["metadata"]["labels"] == labels and spec["podMetadata"]["labels"] == labels
    assert spec["workflowMetadata"]["labelsFrom"] == {"portway.dev/run": {"expression": "workflow.name"}}
    arguments = {p["name"]: p.get("value") for p in spec["arguments"]["parameters"]}
    assert arguments["data_uri"] is None  # required: given at submit time
    assert arguments["max_depth"] == "6" and arguments["threshold"] == "0.8" and arguments["feature_types"] == "{}"


def test_s3_credentials_come_from_a_secret_reference_never_literals():
    document = compile_quietly(continuous_training, s3_secret="minio-creds", s3_endpoint="http://minio:9000")
    for template in pod_templates(document).values():
        env = {e["name"]: e for e in body(template)["env"]}
        assert env["AWS_ENDPOINT_URL"]["value"] == "http://minio:9000"
        for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            assert env[variable] == {"name": variable, "valueFrom": {"secretKeyRef": {"name": "minio-creds",
                                                                                        "key": variable}}}
    default = compile_quietly(continuous_training)  # IRSA: nothing but the service account (and Argo's repository)
    assert not any(e["name"].startswith("AWS_") for t in pod_templates(default).values() for e in body(t)["env"])


def test_compile_time_parameters_become_argument_values():
    document = compile_quietly(continuous_training, parameters={"data_uri": "s3://b/d.csv", "max_depth": "3"})
    arguments = {p["name"]: p.get("value") for p in document["spec"]["arguments"]["parameters"]}
    assert arguments["data_uri"] == "s3://b/d.csv" and arguments["max_depth"] == "3"


# -- memoize ------------------------------------------------------------------------------------------------------
def test_memoize_keys_cover_the_inputs_and_each_step_has_its_cache(workflow):
    names = set()
    for name, template in pod_templates(workflow).items():
        declared = {p["name"] for p in template["inputs"].get("parameters", [])}
        keyed = set(re.findall(r'inputs\.parameters\["([^"]+)"\]', template["memoize"]["key"]))
        # every input is in the key except the run's own name (register's run_id), as in kfp.local
        assert declared - keyed == ({"run_id"} if name == "register" else set()), name
        assert template["memoize"]["maxAge"] == "168h"
        names.add(template["memoize"]["cache"]["configMap"]["name"])
    assert len(names) == len(pod_templates(workflow))  # one ConfigMap per step: none grows to etcd's limit


def test_memoize_key_covers_code_image_and_the_project_sources(monkeypatch):
    from portway.compile.argo import caching

    def key(**options):
        return pod_templates(compile_quietly(continuous_training, **options))["train"]["memoize"]["key"]

    base = key()
    assert key(image="ghcr.io/portway-ml/portway:9.9.9") != base
    monkeypatch.setattr(caching, "project_code_digest", lambda: "changed sources")
    assert key() != base  # the same tag rebuilt from changed code is another key
    process, evaluate = (pod_templates(compile_quietly(continuous_training))[n]["memoize"]["key"]
                         for n in ("process", "evaluate"))
    assert re.search(r"\['([0-9a-f]{16})'", process).group(1) != re.search(r"\['([0-9a-f]{16})'", evaluate).group(1)


# -- resource spec (property) -----------------------------------------------------------------------------------
_cpu = st.sampled_from(["100m", "250m", "1", "2", "3500m", "16"])
_memory = st.sampled_from(["128Mi", "1Gi", "7Gi", "64Gi"])


@settings(max_examples=6, deadline=None)
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
    assert [loop["withParam"] for loop in loops] == ["{{inputs.parameters.loop-items}}"]  # inside the driver
    driver_task = next(t for t in dag_tasks(large).values() if t["template"].endswith("-loop"))
    assert {"name": "loop-items", "value": "{{workflow.parameters.candidates}}"} in driver_task["arguments"]["parameters"]
    candidates = next(p for p in large["spec"]["arguments"]["parameters"] if p["name"] == "candidates")
    assert len(json.loads(candidates["value"])) == 200
    driver = next(t for t in large["spec"]["templates"] if t.get("parallelism"))
    assert driver["parallelism"] == 4
    train_arguments = {p["name"]: p["value"] for p in dag_tasks(large)["train"]["arguments"]["parameters"]}
    assert train_arguments["max_depth"] == "{{inputs.parameters.pipelinechannel--candidates-loop-item-max_depth}}"
    assert large["spec"]["templates"][0]["name"] == "hyperparameter-search"
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
        kubernetes.add_ephemeral_volume(task, volume_name="scratch", mount_path="/scratch",
                                        access_modes=["ReadWriteOnce"], size="1Gi")
        kubernetes.use_secret_as_env(task, secret_name="api", secret_key_to_env={"token": "API_TOKEN"})
        task.set_retry(num_retries=2, backoff_factor=1.5)

    with pytest.warns(ArgoTargetWarning) as caught:
        document = compile_argo(odd)
    messages = [str(w.message) for w in caught]
    assert any("'genericEphemeralVolume' is not carried over" in m for m in messages), messages
    assert any("backoff factor is an integer; 1.5 becomes 2" in m for m in messages), messages
    template = pod_templates(document)["echo"]
    assert {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token", "optional": False}}} in (
        body(template)["env"])
    assert "resources" not in body(template)  # none in the IR, none on Argo (as on KFP)


@pytest.mark.parametrize("options, message", [
    ({"kind": "Job"}, "--kind 'Job' is not supported"),
    ({"kind": "CronWorkflow"}, "--kind CronWorkflow needs --schedule"),
    ({"schedule": "0 3 * * *"}, "--schedule applies to --kind CronWorkflow"),
    ({"kind": "CronWorkflow", "schedule": "every day"}, "is not a cron expression"),
    ({"kind": "CronWorkflow", "schedule": "0 3 * * *", "name": "c" * 53}, "at most 52"),
    ({"kind": "CronWorkflow", "schedule": "0 3 * * *", "timezone": "Mars/Olympus"}, "is not an IANA time zone"),
    ({"parameters": {"max_depth": "deep"}}, "--param max_depth is declared NUMBER_INTEGER"),
    ({"cache_max_age": "a week"}, "--cache-max-age 'a week' is not a duration"),
    ({"active_deadline_seconds": 0}, "--active-deadline-seconds must be a positive whole number"),
    ({"artifact_root": "/local/dir"}, "must be an s3://bucket/prefix URI"),
    ({"namespace": "ML_Team"}, "--namespace 'ML_Team' is not a Kubernetes name"),
    ({"team": "ml-"}, "--team 'ml-' is not allowed"),
    ({"team": "a/b"}, "--team 'a/b' is not allowed"),
    ({"parameters": {"depth": "3"}}, "--param depth is not a parameter of continuous-training"),
])
def test_bad_options_are_refused_with_the_field_named(options, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        compile_argo(continuous_training, ArgoOptions(**options))


def test_golden_yaml_is_plain_yaml(workflow):
    assert yaml.safe_load(yaml.safe_dump(workflow)) == workflow


def test_unknown_ir_fields_are_named_not_dropped():
    from portway.compile.argo import convert_ir
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


def test_source_with_template_braces_is_passed_verbatim():
    from .sample_pipelines import braces

    document = compile_quietly(braces)
    command = pod_templates(document)["wrap"]["container"]["command"]
    # Argo leaves a tag it does not know ({{{{name}}}} is none of its variables) as written.
    assert any('return f"{{{{{name}}}}}"' in part for part in command)
