"""Strict validation of Kubernetes objects against upstream CRDs and JSON schemas.

Test infrastructure shared by every test that checks a manifest, a chart's output or a
compiled workflow against the upstream schemas in ../shared/schemas (never copied here):

    validator = crd_validator(schemas_dir / "karpenter/v1.14.1/karpenter.sh_nodepools.yaml")
    validate_strict(node_pool, validator)

A CRD's `openAPIV3Schema` is OpenAPI, not JSON Schema; `strict_schema` converts it:
`x-kubernetes-int-or-string` becomes string|integer, `nullable` adds null, and every object
with declared properties gets `additionalProperties: false` unless it is marked
`x-kubernetes-preserve-unknown-fields` (so a misspelt or misplaced field is an error, as it
is for `kubectl apply --validate=strict`). CEL rules (`x-kubernetes-validations`) are not
checked here.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import yaml

_OPENAPI_ONLY_KEYS = ("nullable", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields")


def _load_yaml_documents(path: Path) -> list[dict]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the CRDs are megabytes; the C loader is 10x faster
    with open(path) as f:
        return [d for d in yaml.load_all(f, Loader=loader) if d]


def strict_schema(node: object) -> object:
    """Convert an OpenAPI v3 (Kubernetes structural) schema into a strict JSON Schema."""
    if isinstance(node, list):
        return [strict_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict_schema(value) for key, value in node.items() if key not in _OPENAPI_ONLY_KEYS}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["type"] = ["integer", "string"]
    if node.get("nullable"):
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
    preserve = node.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in node and "additionalProperties" not in node and not preserve:
        out["additionalProperties"] = False
    return out


@functools.lru_cache(maxsize=32)
def _crd_schema(crd_path: str, version: str | None) -> str:
    documents = [d for d in _load_yaml_documents(Path(crd_path)) if d.get("kind") == "CustomResourceDefinition"]
    if len(documents) != 1:
        raise ValueError(f"{crd_path} holds {len(documents)} CustomResourceDefinitions; expected exactly one.")
    versions = documents[0]["spec"]["versions"]
    if version is None:
        chosen = [v for v in versions if v.get("storage")] or versions[:1]
    else:
        chosen = [v for v in versions if v["name"] == version]
    if not chosen:
        names = ", ".join(v["name"] for v in versions)
        raise ValueError(f"{crd_path} has no version {version!r}; it has: {names}.")
    schema = strict_schema(chosen[0]["schema"]["openAPIV3Schema"])
    # `metadata` is `type: object` in a CRD (the API server checks it); keep it an open object.
    return json.dumps(schema)


def crd_validator(crd_yaml_path: str | Path, version: str | None = None):
    """A jsonschema validator for the CRD's version (default: its storage version), strict."""
    import jsonschema

    schema = json.loads(_crd_schema(str(crd_yaml_path), version))
    cls = jsonschema.validators.validator_for({"$schema": "https://json-schema.org/draft/2020-12/schema"})
    return cls(schema)


@functools.lru_cache(maxsize=8)
def _strict_definitions(schema_json_path: str) -> str:
    document = json.loads(Path(schema_json_path).read_text())
    definitions = document["definitions"]
    # Argo's generator writes IntOrString as a plain string; the API server takes either.
    for name in ("io.k8s.apimachinery.pkg.util.intstr.IntOrString",):
        if name in definitions:
            definitions[name] = {"type": ["integer", "string"]}
    for definition in definitions.values():
        if definition.get("type") == "object" and "properties" in definition:
            definition.setdefault("additionalProperties", False)
    return json.dumps(document)


def schema_json_validator(schema_json_path: str | Path, definition: str):
    """A strict validator for one definition of a JSON Schema file with `definitions`
    (e.g. Argo's api/jsonschema/schema.json and "io.argoproj.workflow.v1alpha1.Workflow")."""
    import jsonschema

    document = json.loads(_strict_definitions(str(schema_json_path)))
    if definition not in document["definitions"]:
        raise ValueError(f"{schema_json_path} has no definition {definition!r}.")
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "definitions": document["definitions"],
              "$ref": f"#/definitions/{definition}"}
    return jsonschema.Draft7Validator(schema)


def schema_errors(obj: object, validator) -> list[str]:
    """Every violation as `path: message`, sorted, so a failure lists them all at once."""
    errors = []
    for error in validator.iter_errors(copy.deepcopy(obj)):
        where = "/".join(str(p) for p in error.absolute_path) or "<root>"
        errors.append(f"{where}: {error.message[:300]}")
    return sorted(errors)


def validate_strict(obj: object, validator) -> None:
    """Raise AssertionError listing every schema violation of `obj`."""
    errors = schema_errors(obj, validator)
    if errors:
        raise AssertionError(f"{len(errors)} schema violation(s):\n  " + "\n  ".join(errors[:40]))
