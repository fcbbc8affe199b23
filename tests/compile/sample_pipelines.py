"""Small pipelines for the compile CLI tests (importable as compile.sample_pipelines:NAME)."""

# No `from __future__ import annotations`: KFP reads the annotations as types.
from kfp import dsl, kubernetes

from portway.config import DEFAULT_IMAGE


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def shout(text: str) -> str:
    return text.upper()


@dsl.pipeline(name="with-a-pvc")
def with_a_pvc(text: str = "hi"):
    """A setting the Argo target does not carry over: a PVC mount."""
    task = shout(text=text).set_cpu_request("100m").set_memory_request("64Mi")
    kubernetes.mount_pvc(task, pvc_name="scratch", mount_path="/scratch")


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def wrap(name: str) -> str:
    return f"{{{{{name}}}}}"  # braces in the source: Argo would read "{{" as a template tag


@dsl.pipeline(name="braces")
def braces(name: str = "x"):
    wrap(name=name).set_cpu_request("100m").set_memory_request("64Mi")
