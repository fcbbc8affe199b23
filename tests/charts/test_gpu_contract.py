"""The pipeline's GPU step can land on the GPU chart's nodes: the node selector and toleration
that the compiled pipeline puts on `train` (from portway.config) select the NodePool's node
label and tolerate its taint, by Kubernetes' matching rules. Also: the NVIDIA device plugin
dependency is declared as upstream names it and gets values that upstream's chart takes."""

from __future__ import annotations

import yaml

from portway.config import DEFAULT_RESOURCES, GPU_NODE_POOL, GPU_RESOURCE, GPU_TAINT, NODE_POOL_LABEL

from .conftest import GPU_CHART, KSERVE_CHART, by_kind, render


def tolerates(toleration: dict, taint: dict) -> bool:
    """Kubernetes' rule (k8s.io/api/core/v1 Toleration.ToleratesTaint)."""
    if toleration.get("effect") and toleration["effect"] != taint["effect"]:
        return False
    if toleration.get("key") and toleration["key"] != taint["key"]:
        return False
    operator = toleration.get("operator", "Equal")
    if operator == "Exists":
        return True
    return operator == "Equal" and toleration.get("value", "") == taint.get("value", "")


def schedulable(node_selector: dict, tolerations: list[dict], node_labels: dict, taints: list[dict]) -> bool:
    selects = all(node_labels.get(k) == v for k, v in node_selector.items())
    blocking = [t for t in taints if t["effect"] in ("NoSchedule", "NoExecute")]
    return selects and all(any(tolerates(tol, taint) for tol in tolerations) for taint in blocking)


def gpu_pool_nodes(gpu_defaults) -> tuple[dict, list[dict], list[dict]]:
    pool = by_kind(render(GPU_CHART, gpu_defaults), "NodePool")
    template = pool["spec"]["template"]
    return template["metadata"]["labels"], template["spec"]["taints"], template["spec"]["requirements"]


def test_matching_rules_are_not_vacuous():
    taint = {"key": GPU_RESOURCE, "effect": "NoSchedule"}
    assert not schedulable({}, [], {}, [taint])
    assert not schedulable({NODE_POOL_LABEL: "cpu"}, [GPU_TAINT], {NODE_POOL_LABEL: GPU_NODE_POOL}, [taint])
    assert not schedulable({}, [{**GPU_TAINT, "effect": "NoExecute"}], {}, [taint])
    assert schedulable({}, [{"operator": "Exists"}], {}, [taint])


def test_compiled_train_step_lands_on_the_gpu_pool(gpu_defaults, tmp_path):
    from kfp import compiler
    from portway.pipelines.continuous_training import continuous_training

    package = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(continuous_training, str(package))
    pipeline_spec, platform_spec = yaml.safe_load_all(package.read_text())
    executors = platform_spec["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    train = executors["exec-train"]
    node_selector, tolerations = train["nodeSelector"]["labels"], train["tolerations"]

    labels, taints, requirements = gpu_pool_nodes(gpu_defaults)
    assert schedulable(node_selector, tolerations, labels, taints)
    # The pool's label and taint are the contract in portway.config, not a coincidence.
    assert labels[NODE_POOL_LABEL] == GPU_NODE_POOL == DEFAULT_RESOURCES["train"].node_pool
    assert any(tolerates(GPU_TAINT, t) for t in taints)
    # train asks for the GPU resource the pool's NVIDIA instances provide.
    accelerator = pipeline_spec["deploymentSpec"]["executors"]["exec-train"]["container"]["resources"]["accelerator"]
    assert accelerator["resourceType"] == GPU_RESOURCE
    manufacturers = {r["key"]: r["values"] for r in requirements}["karpenter.k8s.aws/instance-gpu-manufacturer"]
    assert manufacturers == ["nvidia"]
    # CPU steps carry no GPU placement, so they never hold a GPU node.
    assert set(executors) == {"exec-train"}


def test_argo_train_template_lands_on_the_gpu_pool(gpu_defaults):
    from portway.pipelines.continuous_training import continuous_training

    from portway.compile.argo import ArgoOptions, compile_argo

    workflow = compile_argo(continuous_training, ArgoOptions(kind="WorkflowTemplate"))
    steps = [t for t in workflow["spec"]["templates"] if "container" in t or "script" in t]
    gpu_templates = [t for t in steps
                     if GPU_RESOURCE in (t.get("container") or t["script"]).get("resources", {}).get("limits", {})]
    assert [t["name"] for t in gpu_templates] == ["train"]
    (train,) = gpu_templates
    labels, taints, _ = gpu_pool_nodes(gpu_defaults)
    assert schedulable(train["nodeSelector"], train["tolerations"], labels, taints)
    # Every other step can run anywhere: no GPU pool selector to strand it.
    others = [t for t in steps if t is not train]
    assert others and all(NODE_POOL_LABEL not in t.get("nodeSelector", {}) for t in others)


def test_gpu_inference_lands_on_the_gpu_pool(gpu_defaults, kserve_defaults):
    values = {**kserve_defaults, "gpu": {"enabled": True}}
    predictor = by_kind(render(KSERVE_CHART, values), "InferenceService")["spec"]["predictor"]
    labels, taints, _ = gpu_pool_nodes(gpu_defaults)
    assert schedulable(predictor["nodeSelector"], predictor["tolerations"], labels, taints)


def test_device_plugin_dependency_matches_upstream(schemas_dir):
    upstream_dir = schemas_dir / "nvidia-device-plugin" / "v0.20.0"
    upstream_chart = yaml.safe_load((upstream_dir / "Chart.yaml").read_text())
    upstream_values = yaml.safe_load((upstream_dir / "values.yaml").read_text())
    chart = yaml.safe_load((GPU_CHART / "Chart.yaml").read_text())
    (dependency,) = chart["dependencies"]
    assert dependency["name"] == upstream_chart["name"]
    assert dependency["version"] == upstream_chart["version"]
    assert dependency["repository"] == "https://nvidia.github.io/k8s-device-plugin"
    assert dependency["condition"] == f"{dependency['alias']}.enabled"

    values = yaml.safe_load((GPU_CHART / "values.yaml").read_text())[dependency["alias"]]
    assert values["enabled"] is False  # Bottlerocket's NVIDIA AMI ships the plugin
    passed = set(values) - {"enabled"}  # `enabled` is read by Helm's condition, not by the subchart
    assert passed and passed <= set(upstream_values), f"keys upstream does not take: {passed - set(upstream_values)}"
    # The DaemonSet tolerates the pool's taint and is placed by the pool's label.
    assert any(tolerates(t, {"key": GPU_TAINT["key"], "effect": GPU_TAINT["effect"]}) for t in values["tolerations"])
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert {"key": NODE_POOL_LABEL, "operator": "In", "values": [GPU_NODE_POOL]} in terms[0]["matchExpressions"]
