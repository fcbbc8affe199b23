"""kfp-kubernetes CreatePVC / DeletePVC as Argo resource templates.

The KFP SDK compiles them to container executors with the stub images `argostub/createpvc` and
`argostub/deletepvc`, which KFP's backend replaces with its own logic (backend/src/v2/driver:
createPVC, deletePVC); here they become Argo `resource` templates (docs/walk-through/kubernetes-resources.md)
acting on a PersistentVolumeClaim, run by the workflow controller with the workflow's service account.
"""

from __future__ import annotations

import json

from portway.compile.argo import refs

CREATE, DELETE = "argostub/createpvc", "argostub/deletepvc"


def is_resource_stub(image: str) -> bool:
    return image.split(":")[0] in (CREATE, DELETE)


def _expr_value(ref: refs.Ref | None) -> str | None:
    return None if ref is None else ref.argument()


def build(template_name: str, image: str, inputs: dict[str, refs.Ref]) -> tuple[dict, list[dict], dict[str, refs.Ref]]:
    """(template, the DAG task's arguments, outputs) for one PVC stub executor."""
    parameters = {n: r for n, r in inputs.items()}
    arguments = [{"name": n, "value": r.argument()} for n, r in sorted(parameters.items())]
    declared = [{"name": n} for n in sorted(parameters)]
    if image.split(":")[0] == DELETE:
        manifest = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "{{inputs.parameters.pvc_name}}"}}
        template = {"name": template_name, "inputs": {"parameters": declared},
                    "resource": {"action": "delete", "manifest": json.dumps(manifest)}}
        return template, arguments, {}
    # The claim's name: pvc_name, or the run's name with pvc_name_suffix (KFP: a generated name + suffix).
    name = ("{{inputs.parameters.pvc_name}}" if "pvc_name" in parameters
            else "{{workflow.name}}" + ("{{inputs.parameters.pvc_name_suffix}}" if "pvc_name_suffix" in parameters else "-pvc"))
    spec = {"accessModes": "__ACCESS_MODES__", "resources": {"requests": {"storage": "{{inputs.parameters.size}}"}}}
    if "storage_class_name" in parameters:
        spec["storageClassName"] = "{{inputs.parameters.storage_class_name}}"
    if "volume_name" in parameters:
        spec["volumeName"] = "{{inputs.parameters.volume_name}}"
    metadata = {"name": name}
    manifest = json.dumps({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec})
    # access_modes is a JSON list: spliced as JSON, not as a string (the manifest is JSON, which is YAML)
    manifest = manifest.replace('"__ACCESS_MODES__"', "{{inputs.parameters.access_modes}}")
    template = {"name": template_name, "inputs": {"parameters": declared},
                "resource": {"action": "create", "setOwnerReference": True, "manifest": manifest},
                "outputs": {"parameters": [{"name": "name", "valueFrom": {"jsonPath": "{.metadata.name}"}}]}}
    outputs = {"name": refs.file_parameter(template_name, "name", "STRING")}
    return template, arguments, outputs
