"""Compile the KFP-authored pipelines for Kubeflow Pipelines (IR) and for plain Argo Workflows."""

from portway.compile.argo import (
           ArgoOptions,
           ArgoTargetWarning,
           UnsupportedFeature,
           check_size,
           compile_argo,
           convert_ir,
)
from portway.compile.kfp_target import compile_kfp, kfp_yaml
from portway.compile.pipelines import PIPELINES, load_ir, load_pipeline

__all__ = ["PIPELINES", "ArgoOptions", "ArgoTargetWarning", "UnsupportedFeature", "check_size", "compile_argo", "compile_kfp",
           "convert_ir", "kfp_yaml", "load_ir", "load_pipeline"]
