"""KFP caching as Argo memoization (docs/memoization.md).

- What is cached: a step's output parameters, which is enough here, because its artifacts stay in S3 at the
  URIs its executor output names (keep the bucket's lifecycle rule longer than maxAge).
- Key: sha256 over the template's full container spec (image, command, args, env, resources), the
  IR's cacheKey and every input value (artifact inputs by URI and metadata), written as an expression
  so Argo computes it per run. The run's own identity (dsl.PIPELINE_JOB_NAME_PLACEHOLDER and friends) is
  left out, as in kfp.local, so a rerun on the same inputs reuses register's result.
- Step logic baked into an image: the key holds the image reference. A digest (image@sha256:...) pins
  the logic; a tag can be rebuilt under the same name, so the compiler warns that such a step may be
  served a stale result for up to maxAge.
- Where: one ConfigMap per step (`<prefix>-<template>`), because Argo keeps every entry of a cache in one
  ConfigMap, which shares etcd's 1 MiB object limit and is not garbage-collected by default.
"""

from __future__ import annotations

import hashlib
import json

from portway.compile.argo import limits
from portway.compile.argo.refs import index, tag


def configmap_name(prefix: str, template: str) -> str:
    name = f"{prefix}-{template}".lower()
    if len(name) > limits.MAX_OBJECT_NAME:
        name = name[:limits.MAX_OBJECT_NAME - 9].rstrip("-") + "-" + limits.short_hash(name)
    return name


def memoize(container: dict, cache_key: str | None, input_names: list[str], prefix: str, template: str,
            max_age: str) -> dict:
    spec = hashlib.sha256(json.dumps([container, cache_key or ""], sort_keys=True).encode()).hexdigest()[:16]
    items = [f"'{spec}'"] + [f"inputs.parameters{index(n)}" for n in sorted(input_names)]
    # Argo's ConfigMap cache keys must be valid ConfigMap keys; the inputs (URIs, JSON) are hashed.
    key = "v1-" + tag(f"sprig.sha256sum(toJson([{', '.join(items)}]))")
    return {"key": key, "maxAge": max_age, "cache": {"configMap": {"name": configmap_name(prefix, template)}}}


def is_pinned(image: str) -> bool:
    return "@sha256:" in image
