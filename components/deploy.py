"""deploy component: a registry version as a KServe InferenceService. Logic: portway.deploy.

Not wired into the continuous-training pipeline (a deployment is a separate decision that
follows an approval); a pipeline that should end with deployment adds it after `register`.
"""

from kfp import dsl

from portway.config import DEFAULT_IMAGE

# In the cluster the job runs as manifests/base's portway-deployer, which may manage
# InferenceServices and nothing else, so it uses the existing portway-inference service
# account (IRSA on EKS, MinIO keys on kind) instead of rendering one.
IN_CLUSTER_VALUES = '{"serviceAccount": {"create": false, "name": "portway-inference"}}'


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def deploy(
    registry_root: str,
    model: str,
    namespace: str,
    timeout_seconds: int = 600,
    force: bool = False,
    values_json: str = IN_CLUSTER_VALUES,
) -> str:
    """Render charts/kserve-inference for `model` (GROUP:approved, GROUP:VERSION), apply it with the
    pod's service account and wait for Ready; returns the result as JSON (name, namespace, url)."""
    import json

    from portway.deploy import deploy_model
    from portway.registry import open_registry

    record = open_registry(registry_root).resolve(model)
    result = deploy_model(record, namespace, overrides=json.loads(values_json), force=force,
                          timeout=timeout_seconds, in_cluster=True)
    return json.dumps({key: result[key] for key in ("name", "namespace", "model", "actions", "ready", "url")})
