"""KFP caching as Argo memoization (docs/memoization.md).

- What is cached: a step's output parameters, which is enough here, because its artifacts stay in S3 at the
  URIs its executor output names (keep the bucket's lifecycle rule longer than maxAge).
- Key: sha256 over the template's full container spec (image, command, args, env, resources), the
  IR's cacheKey and every input value (artifact inputs by URI and metadata), written as an expression
  so Argo computes it per run. The run's own identity (dsl.PIPELINE_JOB_NAME_PLACEHOLDER and friends) is
  left out, as in kfp.local, so a rerun on the same inputs reuses register's result.
- Step logic baked into an image: the key holds the image reference. A digest (image@sha256:...) pins
  the logic. The project's own image is built from this source tree, so its steps' keys also hold a
  digest of the tree's Python sources (portway, its components and pipelines): rebuilding the same tag
  from changed code changes the key. Any other image by tag can be rebuilt under the same name, so the
  compiler warns that its steps may be served a stale result for up to maxAge.
- Where: one ConfigMap per step (`<prefix>-<template>`), because Argo keeps every entry of a cache in one
  ConfigMap, which shares etcd's 1 MiB object limit and is not garbage-collected by default.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from portway.compile.argo import limits
from portway.compile.argo.refs import string_literal, tag


def configmap_name(prefix: str, template: str) -> str:
    name = f"{prefix}-{template}".lower()
    if len(name) > limits.MAX_OBJECT_NAME:
        name = name[:limits.MAX_OBJECT_NAME - 9].rstrip("-") + "-" + limits.short_hash(name)
    return name


def memoize(container: dict, cache_key: str | None, input_values: list[str], prefix: str, template: str,
            max_age: str, code: str = "") -> dict:
    """`input_values`: each input's value as an expression over the template's inputs (picks.value_expr)."""
    rest = {k: v for k, v in container.items() if k != "image"}
    spec = hashlib.sha256(json.dumps([rest, cache_key or ""], sort_keys=True).encode()).hexdigest()[:16]
    # The image and the project's source digest are items of their own (golden files normalise them).
    items = [f"'{spec}'", string_literal(container["image"])] + ([f"'{code[:16]}'"] if code else [])
    items += input_values
    # Argo's ConfigMap cache keys must be valid ConfigMap keys; the inputs (URIs, JSON) are hashed.
    key = "v1-" + tag(f"sprig.sha256sum(toJson([{', '.join(items)}]))")
    return {"key": key, "maxAge": max_age, "cache": {"configMap": {"name": configmap_name(prefix, template)}}}


def is_pinned(image: str) -> bool:
    return "@sha256:" in image


@functools.lru_cache(maxsize=1)
def project_code_digest() -> str:
    """sha256 over the Python sources the project image is built from (portway and its mapped packages)."""
    import portway
    import portway.components
    import portway.pipelines

    digest = hashlib.sha256()
    roots = sorted({Path(p) for module in (portway, portway.components, portway.pipelines) for p in module.__path__})
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
