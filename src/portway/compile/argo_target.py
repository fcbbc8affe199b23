"""The Argo target's former module name, kept so that imports written before it became the package
`portway.compile.argo` (scripts, benchmarks, other tests) keep working. New code imports the package."""

from portway.compile.argo import (
    DEFAULT_ARTIFACT_ROOT,
    DEFAULT_CACHE_MAX_AGE,
    DEFAULT_SERVICE_ACCOUNT,
    DEFAULT_TEAM,
    KINDS,
    MAX_DOCUMENT_BYTES,
    RUN_AS_USER,
    ArgoOptions,
    ArgoTargetWarning,
    UnsupportedFeature,
    check_size,
    compile_argo,
    convert_ir,
    render_parameter,
)

__all__ = ["DEFAULT_ARTIFACT_ROOT", "DEFAULT_CACHE_MAX_AGE", "DEFAULT_SERVICE_ACCOUNT", "DEFAULT_TEAM", "KINDS",
           "MAX_DOCUMENT_BYTES", "RUN_AS_USER", "ArgoOptions", "ArgoTargetWarning", "UnsupportedFeature", "check_size",
           "compile_argo", "convert_ir", "render_parameter"]
