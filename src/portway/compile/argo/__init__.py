"""Argo target: KFP IR -> an Argo Workflows v4 Workflow, WorkflowTemplate or CronWorkflow.

Any KFP v2 pipeline, run by a bare Argo install (no KFP API server, driver, launcher or metadata
store), with nothing of Portway in the steps' images. The modules, in the order a document is built:

  options.py      what the user can set (--kind, --artifact-root, ...), checked
  ir.py           reading the IR, one-line errors for a malformed one
  dag.py          DAGs, dependencies, groups, loops, nested pipelines; conditions.py for dsl.If
  refs.py         how each input reaches its task, in Argo's expression language
  picks.py        an upstream's output passed whole, the step's own input picked out in its template
  executors/      one builder per executor kind: container.py (container and Python function
                  components; python.py tells them apart), importer.py
  placeholders.py every IR placeholder in a command or args
  artifacts.py    S3 keys and paths: Argo's artifact driver moves the bytes
  kubernetes.py   resources and kfp-kubernetes settings
  caching.py      memoize; retries.py retryStrategy
  limits.py       Argo's and Kubernetes' limits, from Argo's validation code
  values.py       the one typed-value conversion (compile, submit)
  workflow.py     the document and its arguments
"""

from __future__ import annotations

import warnings

from portway.compile.argo.executors.container import RUN_AS_USER
from portway.compile.argo.ir import ArgoTargetWarning, MalformedIR, UnsupportedFeature
from portway.compile.argo.limits import MAX_DOCUMENT_BYTES, check_size
from portway.compile.argo.options import (
    DEFAULT_ARTIFACT_ROOT,
    DEFAULT_CACHE_CONFIGMAP,
    DEFAULT_CACHE_MAX_AGE,
    DEFAULT_SERVICE_ACCOUNT,
    DEFAULT_TEAM,
    KINDS,
    ArgoOptions,
)
from portway.compile.argo.values import render as render_parameter

__all__ = ["DEFAULT_ARTIFACT_ROOT", "DEFAULT_CACHE_CONFIGMAP", "DEFAULT_CACHE_MAX_AGE", "DEFAULT_SERVICE_ACCOUNT",
           "DEFAULT_TEAM", "KINDS", "MAX_DOCUMENT_BYTES", "RUN_AS_USER", "ArgoOptions", "ArgoTargetWarning",
           "MalformedIR", "UnsupportedFeature", "check_size", "compile_argo", "convert_ir", "render_parameter"]


def convert_ir(compiled: dict, options: ArgoOptions | None = None) -> tuple[dict, list[str]]:
    """(Argo document, warnings) for compiled KFP IR (compile_kfp's or read_ir_file's result)."""
    from portway.compile.argo.workflow import convert

    options = options or ArgoOptions()
    options.check()
    return convert(compiled, options)


def compile_argo(pipeline, options: ArgoOptions | None = None) -> dict:
    """The pipeline as an Argo document; each setting not carried over is an ArgoTargetWarning."""
    from portway.compile.kfp_target import compile_kfp

    options = options or ArgoOptions()
    options.check()
    document, notes = convert_ir(compile_kfp(pipeline, image=options.image), options)
    for note in notes:
        warnings.warn(ArgoTargetWarning(note), stacklevel=2)
    return document
