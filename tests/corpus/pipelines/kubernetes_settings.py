"""kfp-kubernetes settings: secrets and ConfigMaps as env and volumes, PVCs, empty dirs,
field-path env, node selector, affinity, tolerations, image pull secrets, pod metadata,
timeout, image pull policy. kfp.local ignores them all, so the step reads them back and the
corpus index gives the expected result on a cluster (the engine's secrets and ConfigMaps)."""

from kfp import dsl, kubernetes


@dsl.component(base_image="python:3.11")
def read_settings(names: list, files: list) -> dict:
    import os

    found = {name: os.environ.get(name, "<unset>") for name in names}
    for path in files:
        found[path] = open(path).read() if os.path.exists(path) else "<missing>"
    return found


@dsl.pipeline(name="kubernetes-secrets-configmaps")
def kubernetes_secrets_configmaps():
    task = read_settings(names=["DB_PASSWORD", "MODE"], files=["/mnt/creds/username", "/mnt/config/mode"])
    kubernetes.use_secret_as_env(task, secret_name="db-credentials", secret_key_to_env={"password": "DB_PASSWORD"})
    kubernetes.use_config_map_as_env(task, config_map_name="app-config", config_map_key_to_env={"mode": "MODE"})
    kubernetes.use_secret_as_volume(task, secret_name="db-credentials", mount_path="/mnt/creds")
    kubernetes.use_config_map_as_volume(task, config_map_name="app-config", mount_path="/mnt/config")


@dsl.component(base_image="python:3.11")
def shape_only(text: str) -> dict:
    """Reads back what reaches the step: the field-path env var and the empty dir."""
    import os

    with open("/scratch/probe.txt", "w") as f:  # an emptyDir is writable
        f.write(text)
    return {"text": text, "pod_name": os.environ.get("POD_NAME", "<unset>"),
            "scratch": sorted(os.listdir("/scratch"))}


@dsl.pipeline(name="kubernetes-scheduling")
def kubernetes_scheduling(text: str = "scheduled"):
    """Settings that shape the pod, not the result: node selector, toleration, affinity, labels,
    annotations, image pull secret and policy, timeout, empty dir, field-path env."""
    task = shape_only(text=text)
    kubernetes.add_node_selector(task, label_key="node.kubernetes.io/instance-type", label_value="m5.large")
    kubernetes.add_toleration(task, key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")
    kubernetes.add_node_affinity(task, match_expressions=[
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}])
    kubernetes.add_pod_label(task, label_key="team", label_value="ml")
    kubernetes.add_pod_annotation(task, annotation_key="example.com/owner", annotation_value="corpus")
    kubernetes.set_image_pull_secrets(task, secret_names=["registry-credentials"])
    kubernetes.set_image_pull_policy(task, "IfNotPresent")
    kubernetes.set_timeout(task, seconds=600)
    kubernetes.empty_dir_mount(task, volume_name="scratch", mount_path="/scratch")
    kubernetes.use_field_path_as_env(task, env_name="POD_NAME", field_path="metadata.name")


@dsl.component(base_image="python:3.11")
def write_shared(path: str, text: str):
    with open(path, "w") as f:
        f.write(text)


@dsl.component(base_image="python:3.11")
def read_shared(path: str) -> str:
    with open(path) as f:
        return f.read()


@dsl.pipeline(name="kubernetes-pvc")
def kubernetes_pvc(text: str = "shared through a volume"):
    """KFP docs' PVC example: create, mount in two tasks, delete."""
    pvc = kubernetes.CreatePVC(pvc_name_suffix="-corpus", access_modes=["ReadWriteOnce"], size="1Gi",
                               storage_class_name="standard")
    writer = write_shared(path="/data/shared.txt", text=text)
    kubernetes.mount_pvc(writer, pvc_name=pvc.outputs["name"], mount_path="/data")
    reader = read_shared(path="/data/shared.txt").after(writer)
    kubernetes.mount_pvc(reader, pvc_name=pvc.outputs["name"], mount_path="/data")
    kubernetes.DeletePVC(pvc_name=pvc.outputs["name"]).after(reader)
