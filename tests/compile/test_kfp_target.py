"""KFP target: the IR parses strictly into KFP's protobufs and carries the resource spec of portway.config."""

from __future__ import annotations

import copy

import pytest
from google.protobuf import json_format
from portway.pipelines.continuous_training import build_pipeline, continuous_training

from portway.compile.kfp_target import compile_kfp, parse_strict
from portway.config import DEFAULT_RESOURCES, GPU_RESOURCE, GPU_TAINT, NODE_POOL_LABEL, ResourceSpec
from portway.errors import ParameterError

from .goldens import check_golden


@pytest.fixture(scope="module")
def compiled() -> dict:
    return compile_kfp(continuous_training)


def container_tasks(spec: dict) -> dict[str, dict]:
    """task name -> executor container, through every nested DAG of the IR."""
    found = {}

    def walk(dag: dict) -> None:
        for name, task in dag.get("tasks", {}).items():
            component = spec["components"][task["componentRef"]["name"]]
            if "dag" in component:
                walk(component["dag"])
            else:
                found[name] = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]

    walk(spec["root"]["dag"])
    return found


def executor_of(spec: dict, task_name: str) -> str:
    def walk(dag):
        for name, task in dag.get("tasks", {}).items():
            component = spec["components"][task["componentRef"]["name"]]
            if name == task_name and "executorLabel" in component:
                return component["executorLabel"]
            if "dag" in component and (found := walk(component["dag"])):
                return found
        return None

    return walk(spec["root"]["dag"])


def test_matches_golden(compiled, update_goldens):
    check_golden("continuous_training.kfp.yaml", [compiled["pipeline_spec"], compiled["platform_spec"]],
                 update_goldens)


def test_ir_parses_strictly_and_an_unknown_field_is_refused(compiled):
    parse_strict(compiled)  # PipelineSpec and PlatformSpec, no unknown fields
    tampered = copy.deepcopy(compiled)
    tampered["pipeline_spec"]["root"]["dag"]["tasks"]["train"]["retryPolicyy"] = {}
    with pytest.raises(json_format.ParseError, match="retryPolicyy"):
        parse_strict(tampered)
    tampered = copy.deepcopy(compiled)
    tampered["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-train"]["gpuu"] = 1
    with pytest.raises(json_format.ParseError, match="gpuu"):
        parse_strict(tampered)


def test_every_task_requests_what_the_resource_spec_says(compiled):
    tasks = container_tasks(compiled["pipeline_spec"])
    assert set(tasks) == set(DEFAULT_RESOURCES), tasks.keys()
    for name, container in tasks.items():
        spec, resources = DEFAULT_RESOURCES[name], container["resources"]
        assert (resources["resourceCpuRequest"], resources["resourceMemoryRequest"]) == (spec.cpu, spec.memory), name
        assert (resources["resourceCpuLimit"], resources["resourceMemoryLimit"]) == spec.limits, name
        assert ("accelerator" in resources) == bool(spec.gpu), name


def test_train_asks_for_a_gpu_and_tolerates_and_selects_the_gpu_pool(compiled):
    train = container_tasks(compiled["pipeline_spec"])["train"]
    accelerator = train["resources"]["accelerator"]
    assert accelerator["resourceType"] == GPU_RESOURCE and accelerator["resourceCount"] == str(DEFAULT_RESOURCES["train"].gpu)
    executors = compiled["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    train_platform = executors[executor_of(compiled["pipeline_spec"], "train")]
    assert train_platform["tolerations"] == [GPU_TAINT]
    assert train_platform["nodeSelector"]["labels"] == {NODE_POOL_LABEL: DEFAULT_RESOURCES["train"].node_pool}
    assert set(executors) == {"exec-train"}  # no other step lands on (or pays for) the GPU pool


def test_one_spec_per_step_drives_the_ir():
    custom = ResourceSpec(cpu="2", memory="6Gi", gpu=4, node_pool="a100", cpu_limit="3", memory_limit="7Gi")
    compiled = compile_kfp(build_pipeline(resources={"train": custom, "process": ResourceSpec(cpu="250m", memory="1Gi")}))
    tasks = container_tasks(compiled["pipeline_spec"])
    train = tasks["train"]["resources"]
    assert (train["resourceCpuRequest"], train["resourceMemoryLimit"], train["accelerator"]["resourceCount"]) == (
        "2", "7Gi", "4")
    assert tasks["process"]["resources"]["resourceCpuLimit"] == "250m"  # no limit given: the request
    executors = compiled["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert executors["exec-train"]["nodeSelector"]["labels"] == {NODE_POOL_LABEL: "a100"}
    # the pipeline's `gpus` parameter defaults to the spec's GPU count
    assert compiled["pipeline_spec"]["root"]["inputDefinitions"]["parameters"]["gpus"]["defaultValue"] == 4


def test_image_override_rewrites_every_project_executor():
    image = "registry.example/ml/portway@sha256:" + "ab" * 32
    compiled = compile_kfp(continuous_training, image=image)
    images = {c["image"] for c in container_tasks(compiled["pipeline_spec"]).values()}
    assert images == {image}


@pytest.mark.parametrize("image", ["", "Ghcr.io/UPPER:1", "http://x/y:1", "repo:tag with space", "x@sha256:short"])
def test_a_bad_image_is_refused(image):
    with pytest.raises(ParameterError, match="is not an image reference"):
        compile_kfp(continuous_training, image=image)


def _written_by_kfp(pipeline, tmp_path) -> dict:
    import yaml
    from kfp import compiler

    package = tmp_path / f"{pipeline.name}.yaml"
    compiler.Compiler().compile(pipeline, package_path=str(package))
    documents = [d for d in yaml.safe_load_all(package.read_text()) if d]
    return {"pipeline_spec": documents[0], "platform_spec": documents[1] if len(documents) > 1 else None}


def test_ir_documents_equal_what_kfps_compiler_writes(tmp_path):
    """compile_kfp takes the IR from KFP's compile path without its YAML file (kfp_target.ir_documents):
    for the bundled pipelines and every corpus pipeline, the documents are the ones the compiler writes."""
    from corpus.index import CASES

    from portway.compile.kfp_target import ir_documents
    from portway.compile.pipelines import PIPELINES, load_pipeline

    pipelines = [load_pipeline(name) for name in PIPELINES] + [case.pipeline for case in CASES]
    differ = [p.name for p in pipelines if ir_documents(p) != _written_by_kfp(p, tmp_path)]
    assert differ == []
