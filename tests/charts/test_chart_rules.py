"""What each chart does with its values, and every bad value refused with a message that says
what to change (values.schema.json or a template `fail`)."""

from __future__ import annotations

import copy

import helm_python
import pytest

from .conftest import GPU_CHART, KSERVE_CHART, by_kind, render


def with_values(base: dict, **changes) -> dict:
    """A deep copy of `base` with `a__b`-style keys set; None is YAML null, which deletes the
    chart's default for that key (as `--set key=null` does)."""
    values = copy.deepcopy(base)
    for dotted, value in changes.items():
        node = values
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return values


def render_error(chart, values) -> str:
    with pytest.raises(helm_python.HelmError) as info:
        render(chart, values)
    return str(info.value)


# --- kserve-inference ---------------------------------------------------------------------
def test_kserve_defaults_standard_mode_v2_xgboost(kserve_defaults):
    objects = render(KSERVE_CHART, with_values(kserve_defaults, model__version="7"), release="churn-7")
    isvc, sa = by_kind(objects, "InferenceService"), by_kind(objects, "ServiceAccount")
    assert isvc["metadata"]["name"] == "churn"
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    assert isvc["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "hpa"
    assert isvc["metadata"]["labels"]["portway.dev/model-version"] == "7"
    predictor = isvc["spec"]["predictor"]
    assert predictor["model"]["modelFormat"] == {"name": "xgboost"}
    assert predictor["model"]["protocolVersion"] == "v2"
    assert predictor["model"]["storageUri"] == kserve_defaults["model"]["storageUri"]
    assert predictor["serviceAccountName"] == sa["metadata"]["name"]
    assert (predictor["minReplicas"], predictor["maxReplicas"], predictor["scaleMetric"]) == (1, 3, "cpu")
    assert "canaryTrafficPercent" not in predictor and "tolerations" not in predictor


def test_kserve_name_override_and_explicit_runtime(kserve_defaults):
    isvc = by_kind(render(KSERVE_CHART, with_values(kserve_defaults, nameOverride="churn-canary",
                                                    model__runtime="kserve-mlserver")), "InferenceService")
    assert isvc["metadata"]["name"] == "churn-canary"
    assert isvc["spec"]["predictor"]["model"]["runtime"] == "kserve-mlserver"


def test_kserve_irsa_service_account(kserve_defaults):
    arn = "arn:aws:iam::123456789012:role/portway-inference"
    sa = by_kind(render(KSERVE_CHART, with_values(kserve_defaults, serviceAccount__irsaRoleArn=arn,
                                                  s3__region="eu-west-1")), "ServiceAccount")
    annotations = sa["metadata"]["annotations"]
    assert annotations["eks.amazonaws.com/role-arn"] == arn
    assert annotations["serving.kserve.io/s3-region"] == "eu-west-1"
    assert annotations["serving.kserve.io/s3-usehttps"] == "1"
    assert "secrets" not in sa


def test_kserve_minio_service_account_references_secret_without_rendering_it(kserve_defaults):
    values = with_values(kserve_defaults, s3={"endpoint": "minio.portway.svc.cluster.local:9000", "useHttps": False,
                                               "verifySSL": False, "credentialsSecret": "portway-s3-credentials"})
    objects = render(KSERVE_CHART, values)
    sa = by_kind(objects, "ServiceAccount")
    assert sa["secrets"] == [{"name": "portway-s3-credentials"}]
    assert sa["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"] == "minio.portway.svc.cluster.local:9000"
    assert sa["metadata"]["annotations"]["serving.kserve.io/s3-usehttps"] == "0"
    assert sa["metadata"]["annotations"]["serving.kserve.io/s3-verifyssl"] == "0"
    assert "Secret" not in {o["kind"] for o in objects}


def test_kserve_gpu_adds_resource_toleration_and_pool_selector(kserve_defaults):
    from portway.config import GPU_NODE_POOL, GPU_RESOURCE, GPU_TAINT, NODE_POOL_LABEL

    values = with_values(kserve_defaults, gpu={"enabled": True, "count": 2},
                         tolerations=[{"key": "team", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}])
    predictor = by_kind(render(KSERVE_CHART, values), "InferenceService")["spec"]["predictor"]
    assert predictor["model"]["resources"]["limits"][GPU_RESOURCE] == 2
    assert predictor["model"]["resources"]["requests"][GPU_RESOURCE] == 2
    assert predictor["nodeSelector"] == {NODE_POOL_LABEL: GPU_NODE_POOL}
    assert GPU_TAINT in predictor["tolerations"] and len(predictor["tolerations"]) == 2


def test_kserve_knative_canary_and_scale_to_zero(kserve_defaults):
    values = with_values(kserve_defaults, deploymentMode="Knative", canaryTrafficPercent=0,
                         autoscaling={"minReplicas": 0, "maxReplicas": 2, "scaleTarget": 5, "scaleMetric": "rps"})
    isvc = by_kind(render(KSERVE_CHART, values), "InferenceService")
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Knative"
    assert "serving.kserve.io/autoscalerClass" not in isvc["metadata"]["annotations"]
    assert isvc["spec"]["predictor"]["canaryTrafficPercent"] == 0  # 0 is a value, not "unset"
    assert isvc["spec"]["predictor"]["minReplicas"] == 0


def test_kserve_knative_cpu_metric_uses_knative_hpa_class(kserve_defaults):
    isvc = by_kind(render(KSERVE_CHART, with_values(kserve_defaults, deploymentMode="Knative")), "InferenceService")
    assert isvc["metadata"]["annotations"]["autoscaling.knative.dev/class"] == "hpa.autoscaling.knative.dev"


@pytest.mark.parametrize(("changes", "expected"), [
    ({"canaryTrafficPercent": 10}, "KServe supports canary rollout only in Knative mode"),
    ({"autoscaling__scaleMetric": "concurrency"}, "scaleMetric=concurrency needs Knative's autoscaler"),
    ({"autoscaling__minReplicas": 4}, "autoscaling.minReplicas=4 is greater than autoscaling.maxReplicas=3"),
    ({"autoscaling__minReplicas": 0}, "a HorizontalPodAutoscaler cannot scale to zero"),
    ({"autoscaling__scaleTarget": 150}, "scaleTarget=150 with scaleMetric=cpu"),
    ({"model__storageUri": ""}, "model.storageUri is required"),
    ({"serviceAccount__irsaRoleArn": "arn:aws:iam::123456789012:role/r", "s3__credentialsSecret": "keys"},
     "Set only one"),
    ({"serviceAccount__create": False, "serviceAccount__irsaRoleArn": "arn:aws:iam::123456789012:role/r"},
     "serviceAccount.create=false"),
])
def test_kserve_refuses_inconsistent_values(kserve_defaults, changes, expected):
    assert expected in render_error(KSERVE_CHART, with_values(kserve_defaults, **changes))


@pytest.mark.parametrize(("changes", "field"), [
    ({"model__storageUri": "/home/me/model"}, "/model/storageUri"),
    ({"model__storageUri": "file:///tmp/model"}, "/model/storageUri"),
    ({"deploymentMode": "Serverles"}, "/deploymentMode"),
    ({"canaryTrafficPercent": 120}, "/canaryTrafficPercent"),
    ({"model__group": "Churn_Model"}, "/model/group"),
    ({"model__version": 7}, "/model/version"),
    ({"autoscaling__scaleMetric": "gpu"}, "/autoscaling/scaleMetric"),
    ({"resources__limits__memory": None}, "/resources/limits"),
    ({"serviceAccount__irsaRoleArn": "portway-inference"}, "/serviceAccount/irsaRoleArn"),
    ({"s3__endpoint": "http://minio:9000"}, "/s3/endpoint"),
    ({"modle": {"version": "1"}}, "modle"),
])
def test_kserve_schema_names_the_bad_field(kserve_defaults, changes, field):
    message = render_error(KSERVE_CHART, with_values(kserve_defaults, **changes))
    assert "schema" in message and field in message, message


# --- gpu-nodepool -------------------------------------------------------------------------
def test_gpu_pool_defaults(gpu_defaults):
    objects = render(GPU_CHART, gpu_defaults, release="portway-gpu")
    pool, node_class = by_kind(objects, "NodePool"), by_kind(objects, "EC2NodeClass")
    assert pool["spec"]["template"]["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": node_class["metadata"]["name"]}
    requirements = {r["key"]: r for r in pool["spec"]["template"]["spec"]["requirements"]}
    assert requirements["karpenter.k8s.aws/instance-family"]["values"] == ["g5", "g6", "g6e"]
    assert requirements["karpenter.sh/capacity-type"]["values"] == ["on-demand"]
    assert pool["spec"]["limits"] == {"cpu": "256", "memory": "1024Gi", "nvidia.com/gpu": "16"}
    assert pool["spec"]["disruption"]["consolidationPolicy"] == "WhenEmpty"
    spec = node_class["spec"]
    assert spec["amiSelectorTerms"] == [{"alias": "bottlerocket@latest"}]
    assert spec["role"] == gpu_defaults["role"] and "instanceProfile" not in spec
    discovery = {"karpenter.sh/discovery": gpu_defaults["clusterName"]}
    assert spec["subnetSelectorTerms"] == [{"tags": discovery}]
    assert spec["securityGroupSelectorTerms"] == [{"tags": discovery}]
    # Bottlerocket: the images go on the data volume, which gets the configured size.
    devices = {m["deviceName"]: m for m in spec["blockDeviceMappings"]}
    assert devices["/dev/xvdb"]["ebs"]["volumeSize"] == "200Gi"
    assert spec["metadataOptions"]["httpTokens"] == "required"


def test_gpu_pool_al2023_instance_types_spot_and_instance_profile(gpu_defaults):
    values = with_values(gpu_defaults, role=None, instanceProfile="KarpenterNodeInstanceProfile-x",
                         instanceFamilies=[], instanceTypes=["g6e.12xlarge", "p5.48xlarge"],
                         capacityTypes=["spot", "on-demand"], ami={"family": "AL2023", "version": "v20250920"},
                         externalDevicePlugin=True)
    objects = render(GPU_CHART, values)
    pool, spec = by_kind(objects, "NodePool"), by_kind(objects, "EC2NodeClass")["spec"]
    requirements = {r["key"]: r["values"] for r in pool["spec"]["template"]["spec"]["requirements"]}
    assert requirements["node.kubernetes.io/instance-type"] == ["g6e.12xlarge", "p5.48xlarge"]
    assert "karpenter.k8s.aws/instance-family" not in requirements
    assert requirements["karpenter.sh/capacity-type"] == ["spot", "on-demand"]
    assert spec["amiSelectorTerms"] == [{"alias": "al2023@v20250920"}]
    assert spec["instanceProfile"] == "KarpenterNodeInstanceProfile-x" and "role" not in spec
    root = [m for m in spec["blockDeviceMappings"] if m.get("rootVolume")]
    assert len(root) == 1 and root[0]["ebs"]["volumeSize"] == "200Gi"


@pytest.mark.parametrize(("changes", "expected"), [
    ({"instanceProfile": "KarpenterNodeInstanceProfile-x"}, "Both role (KarpenterNodeRole-portway-demo) and instanceProfile"),
    ({"role": None}, "Neither role nor instanceProfile is set"),
    ({"instanceFamilies": []}, "instanceFamilies and instanceTypes are both empty"),
    ({"instanceTypes": ["g6.xlarge"]}, "set one of the two"),
    ({"nvidiaDevicePlugin__enabled": True}, "Bottlerocket's NVIDIA AMIs run the NVIDIA device plugin already"),
    ({"ami": {"family": "AL2023", "version": "latest"}}, "the AL2023 NVIDIA AMI has the driver but no Kubernetes device plugin"),
    ({"clusterName": ""}, "clusterName is required"),
])
def test_gpu_pool_refuses_inconsistent_values(gpu_defaults, changes, expected):
    assert expected in render_error(GPU_CHART, with_values(gpu_defaults, **changes))


@pytest.mark.parametrize(("changes", "field"), [
    ({"instanceFamilies": ["m5"]}, "/instanceFamilies/0"),
    ({"instanceTypes": ["c7i.large"], "instanceFamilies": []}, "/instanceTypes/0"),
    ({"capacityTypes": ["reserved"]}, "/capacityTypes/0"),
    ({"capacityTypes": []}, "/capacityTypes"),
    ({"ami": {"family": "Ubuntu", "version": "latest"}}, "/ami/family"),
    ({"disruption__consolidationPolicy": "Always"}, "/disruption/consolidationPolicy"),
    ({"disruption__consolidateAfter": "five minutes"}, "/disruption/consolidateAfter"),
    ({"limits__gpu": None}, "/limits"),
    ({"blockDevice__volumeSize": "200"}, "/blockDevice/volumeSize"),
    ({"taints": []}, "/taints"),
    ({"nodeLabels": {"portway.dev/node-pool": None}}, "/nodeLabels"),
    ({"instanceFamily": ["g5"]}, "instanceFamily"),
])
def test_gpu_pool_schema_names_the_bad_field(gpu_defaults, changes, field):
    message = render_error(GPU_CHART, with_values(gpu_defaults, **changes))
    assert "schema" in message and field in message, message
