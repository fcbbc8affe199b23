"""Validate rendered Kubernetes objects the way an API server would, offline.

- core kinds: kubernetes-validate's strict JSON schemas, for every version in KUBE_VERSIONS;
- custom resources: the upstream CRD in ../shared/schemas, strictly (tests/schema_tools.py),
  plus the CRD's CEL rules (`x-kubernetes-validations`) evaluated with the
  common-expression-language package, and their `metadata` as an ObjectMeta.

Transition rules (those that read `oldSelf`) apply only to updates and are skipped, as the
API server skips them on create.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml
from schema_tools import crd_validator, schema_errors

from portway.devtools.charts import KUBE_VERSIONS

# (apiVersion, kind) -> CRD file under the shared schemas directory.
CRD_FILES = {
    ("karpenter.sh/v1", "NodePool"): "karpenter/v1.14.1/karpenter.sh_nodepools.yaml",
    ("karpenter.k8s.aws/v1", "EC2NodeClass"): "karpenter/v1.14.1/karpenter.k8s.aws_ec2nodeclasses.yaml",
    ("serving.kserve.io/v1beta1", "InferenceService"):
        "kserve/v0.20.0/crd-full/serving.kserve.io_inferenceservices.yaml",
    ("argoproj.io/v1alpha1", "Workflow"): "argo-workflows/v4.1.2/crds-full/argoproj.io_workflows.yaml",
    ("argoproj.io/v1alpha1", "WorkflowTemplate"):
        "argo-workflows/v4.1.2/crds-full/argoproj.io_workflowtemplates.yaml",
    ("argoproj.io/v1alpha1", "CronWorkflow"): "argo-workflows/v4.1.2/crds-full/argoproj.io_cronworkflows.yaml",
}


def describe(obj: dict) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def core_errors(obj: dict, kube_version: str) -> list[str]:
    """Strict schema errors of a core object at one Kubernetes version."""
    import kubernetes_validate

    try:
        kubernetes_validate.validate(obj, kube_version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = "/".join(str(p) for p in exc.path) or "<root>"
        return [f"{describe(obj)} @ {kube_version}: {where}: {exc.message[:300]}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [f"{describe(obj)} @ {kube_version}: no schema for {obj.get('apiVersion')} {obj.get('kind')} ({exc})"]
    return []


# --- CEL ----------------------------------------------------------------------------------
# Functions of Kubernetes' CEL library (and cel-go's strings extension) that CRD rules use and
# the core CEL evaluator lacks; called in receiver style, e.g. `x.find('^[^@]+')`.
def _find(text: str, pattern: str) -> str:
    match = re.search(pattern, text)
    return match.group(0) if match else ""


_CEL_FUNCTIONS = {
    "find": _find,
    "findAll": lambda text, pattern: re.findall(pattern, text),
    "split": lambda text, sep: text.split(sep),
    "lowerAscii": lambda text: text.lower(),
    "upperAscii": lambda text: text.upper(),
    "indexOf": lambda text, sub: text.find(sub),
    "join": lambda items, sep="": sep.join(items),
}


@functools.lru_cache(maxsize=16)
def _crd_openapi(crd_path: str) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(crd_path) as f:
        crd = next(d for d in yaml.load_all(f, Loader=loader) if d and d.get("kind") == "CustomResourceDefinition")
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    return version["schema"]["openAPIV3Schema"]


def cel_errors(obj: dict, crd_path: Path) -> list[str]:
    """Every CEL rule of the CRD that the object breaks (or that could not be evaluated)."""
    import cel

    errors: list[str] = []

    def walk(schema: dict, value: object, path: str) -> None:
        if value is None:
            return
        for rule in schema.get("x-kubernetes-validations", []):
            expression = rule["rule"]
            if "oldSelf" in expression:
                continue  # a transition rule: only evaluated on update
            context = cel.Context(variables={"self": value}, functions=_CEL_FUNCTIONS)
            try:
                result = cel.evaluate(expression, context)
            except Exception as exc:  # an evaluator gap must show, not pass silently
                errors.append(f"{describe(obj)}: {path}: cannot evaluate CEL rule {expression!r}: {exc}")
                continue
            if result is not True:
                errors.append(f"{describe(obj)}: {path}: {rule.get('message') or expression}")
        if isinstance(value, dict):
            properties = schema.get("properties")
            if properties:
                for key, item in value.items():
                    if key in properties:
                        walk(properties[key], item, f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                for key, item in value.items():
                    walk(schema["additionalProperties"], item, f"{path}[{key}]")
        elif isinstance(value, list) and isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                walk(schema["items"], item, f"{path}[{index}]")

    walk(_crd_openapi(str(crd_path)), obj, "")
    return errors


# --- dispatch -----------------------------------------------------------------------------
def object_errors(obj: dict, schemas_dir: Path) -> list[str]:
    """Everything wrong with one object; empty when an API server would accept it."""
    crd_file = CRD_FILES.get((obj.get("apiVersion"), obj.get("kind")))
    if crd_file is None:
        return [e for version in KUBE_VERSIONS for e in core_errors(obj, version)]
    crd_path = Path(schemas_dir) / crd_file
    errors = [f"{describe(obj)}: {e}" for e in schema_errors(obj, crd_validator(crd_path))]
    errors += cel_errors(obj, crd_path)
    # A CRD types metadata as a bare object; check it as the ObjectMeta the API server enforces.
    carrier = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj.get("metadata", {})}
    errors += [e.replace("ConfigMap/", f"{obj.get('kind')}/", 1)
               for version in KUBE_VERSIONS for e in core_errors(carrier, version)]
    return errors


def assert_valid(objects: list[dict], schemas_dir: Path) -> None:
    errors = [e for obj in objects for e in object_errors(obj, schemas_dir)]
    assert not errors, f"{len(errors)} problem(s):\n  " + "\n  ".join(errors[:40])
