"""Container resources and kfp-kubernetes (PlatformSpec) settings on an Argo template.

Carried over: CPU/memory requests and limits, accelerators (as extended-resource limits), env,
tolerations, node selector, pod labels/annotations, timeout (activeDeadlineSeconds), image pull
policy and secrets, Secrets and ConfigMaps as env, Secrets/ConfigMaps/empty dirs as volumes,
field-path env. Anything else in the PlatformSpec is named in a warning.
"""

from __future__ import annotations

from collections.abc import Callable

from portway.compile.argo import limits

SUPPORTED = {"tolerations", "nodeSelector", "podMetadata", "activeDeadlineSeconds", "imagePullPolicy",
             "secretAsEnv", "configMapAsEnv", "imagePullSecret", "secretAsVolume", "configMapAsVolume",
             "emptyDirMounts", "fieldPathAsEnv", "pvcMount", "nodeAffinity"}


def resources(container: dict, task: str, warn: Callable[[str], None]) -> dict:
    spec = container.get("resources", {})
    requests = {"cpu": spec.get("resourceCpuRequest") or spec.get("cpuRequest"),
                "memory": spec.get("resourceMemoryRequest") or spec.get("memoryRequest")}
    limits_ = {"cpu": spec.get("resourceCpuLimit") or spec.get("cpuLimit"),
               "memory": spec.get("resourceMemoryLimit") or spec.get("memoryLimit")}
    for key in ("cpu", "memory"):  # the IR's numeric forms (cpuLimit: 2.0, memoryLimit in GB) as quantities
        for values in (requests, limits_):
            if isinstance(values[key], float):
                values[key] = str(int(values[key])) if values[key].is_integer() else str(values[key])
    accelerator = spec.get("accelerator", {})
    if accelerator:
        kind = accelerator.get("resourceType") or accelerator.get("type")
        count = accelerator.get("resourceCount") or accelerator.get("count")
        if not kind or "/" not in kind:
            warn(f"task {task!r}: accelerator type {kind!r} is not a Kubernetes resource name (such as "
                 "nvidia.com/gpu); no GPU limit is set")
        else:
            limits_[kind] = str(count)  # extended resources are requested through limits
    result = {}
    if any(requests.values()):
        result["requests"] = {k: v for k, v in requests.items() if v}
    if any(limits_.values()):
        result["limits"] = {k: v for k, v in limits_.items() if v}
    return result


def environment(container: dict, platform: dict, task: str, warn: Callable[[str], None]) -> list[dict]:
    env = [{"name": e["name"], "value": e.get("value", "")} for e in container.get("env", [])]
    for item in platform.get("secretAsEnv", []):
        name = item.get("secretName") or item.get("secretNameParameter", {}).get("runtimeValue", {}).get("constant")
        if not name:
            warn(f"task {task!r}: a Secret named by a pipeline parameter is not carried over")
            continue
        for mapping in item.get("keyToEnv", []):
            ref = {"name": name, "key": mapping["secretKey"]}
            if item.get("optional") is not None:
                ref["optional"] = item["optional"]
            env.append({"name": mapping["envVar"], "valueFrom": {"secretKeyRef": ref}})
    for item in platform.get("configMapAsEnv", []):
        name = item.get("configMapName") or item.get("configMapNameParameter", {}).get("runtimeValue", {}).get(
            "constant")
        if not name:
            warn(f"task {task!r}: a ConfigMap named by a pipeline parameter is not carried over")
            continue
        for mapping in item.get("keyToEnv", []):
            ref = {"name": name, "key": mapping["configMapKey"]}
            if item.get("optional") is not None:
                ref["optional"] = item["optional"]
            env.append({"name": mapping["envVar"], "valueFrom": {"configMapKeyRef": ref}})
    for item in platform.get("fieldPathAsEnv", []):
        env.append({"name": item["name"], "valueFrom": {"fieldRef": {"fieldPath": item["fieldPath"]}}})
    return env


def volumes(platform: dict, task: str) -> tuple[list[dict], list[dict]]:
    """(template volumes, container volume mounts) for Secrets, ConfigMaps and empty dirs."""
    volumes_, mounts = [], []
    for n, item in enumerate(platform.get("secretAsVolume", [])):
        name = limits.field_name(f"secret-{n}-{item.get('secretName', '')}", 63)
        source = {"secretName": item.get("secretName")}
        if item.get("optional") is not None:
            source["optional"] = item["optional"]
        volumes_.append({"name": name, "secret": source})
        mounts.append({"name": name, "mountPath": item["mountPath"]})
    for n, item in enumerate(platform.get("configMapAsVolume", [])):
        name = limits.field_name(f"configmap-{n}-{item.get('configMapName', '')}", 63)
        source = {"name": item.get("configMapName")}
        if item.get("optional") is not None:
            source["optional"] = item["optional"]
        volumes_.append({"name": name, "configMap": source})
        mounts.append({"name": name, "mountPath": item["mountPath"]})
    for n, item in enumerate(platform.get("pvcMount", [])):
        # The claim's name is the template input pvc-<n> (dag.py resolves constants and CreatePVC outputs).
        volumes_.append({"name": f"pvc-{n}", "persistentVolumeClaim": {"claimName": f"{{{{inputs.parameters.pvc-{n}}}}}"}})
        mounts.append({"name": f"pvc-{n}", "mountPath": item["mountPath"]})
    for n, item in enumerate(platform.get("emptyDirMounts", [])):
        name = limits.field_name(f"empty-{n}-{item.get('volumeName', '')}", 63)
        source = {k: item[k] for k in ("medium", "sizeLimit") if item.get(k)}
        volumes_.append({"name": name, "emptyDir": source})
        mounts.append({"name": name, "mountPath": item["mountPath"]})
    return volumes_, mounts


def toleration(spec: dict, task: str, warn: Callable[[str], None]) -> dict:
    if spec.get("tolerationJson"):
        warn(f"task {task!r}: a toleration given as a pipeline parameter (tolerationJson) is not carried over")
    keys = {"key": "key", "operator": "operator", "value": "value", "effect": "effect",
            "tolerationSeconds": "tolerationSeconds"}
    return {out: spec[k] for k, out in keys.items() if spec.get(k) is not None}


def template_settings(platform: dict, task: str, warn: Callable[[str], None]) -> dict:
    """Template-level fields: node selector, tolerations, metadata, timeout."""
    for key in sorted(set(platform) - SUPPORTED):
        warn(f"task {task!r}: kfp-kubernetes setting {key!r} is not carried over to the Argo target")
    settings = {}
    if platform.get("nodeSelector", {}).get("labels"):
        settings["nodeSelector"] = dict(platform["nodeSelector"]["labels"])
    if platform.get("tolerations"):
        settings["tolerations"] = [toleration(t, task, warn) for t in platform["tolerations"]]
    if platform.get("nodeAffinity"):
        required = [term["matchExpressions"] for term in platform["nodeAffinity"]
                    if term.get("matchExpressions") and not term.get("weight")]
        preferred = [{"weight": term["weight"], "preference": {"matchExpressions": term["matchExpressions"]}}
                     for term in platform["nodeAffinity"] if term.get("weight") and term.get("matchExpressions")]
        affinity = {}
        if required:
            affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
                "nodeSelectorTerms": [{"matchExpressions": t} for t in required]}
        if preferred:
            affinity["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
        if affinity:
            settings["affinity"] = {"nodeAffinity": affinity}
    if platform.get("activeDeadlineSeconds"):
        settings["activeDeadlineSeconds"] = int(platform["activeDeadlineSeconds"])
    return settings


def pull_secrets(platform: dict) -> set[str]:
    return {s.get("secretName", "") for s in platform.get("imagePullSecret", []) if s.get("secretName")}
