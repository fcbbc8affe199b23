"""Small pipelines for the compile CLI tests (importable as compile.sample_pipelines:NAME)."""

# No `from __future__ import annotations`: KFP reads the annotations as types.
from kfp import dsl, kubernetes

from portway.config import DEFAULT_IMAGE


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def shout(text: str) -> str:
    return text.upper()


@dsl.pipeline(name="with-an-ephemeral-volume")
def with_an_ephemeral_volume(text: str = "hi"):
    """A setting the Argo target does not carry over: a generic ephemeral volume."""
    task = shout(text=text).set_cpu_request("100m").set_memory_request("64Mi")
    kubernetes.add_ephemeral_volume(task, volume_name="scratch", mount_path="/scratch", access_modes=["ReadWriteOnce"],
                                    size="1Gi")


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def wrap(name: str) -> str:
    return f"{{{{{name}}}}}"  # braces in the source: Argo would read "{{" as a template tag


@dsl.pipeline(name="braces")
def braces(name: str = "x"):
    wrap(name=name).set_cpu_request("100m").set_memory_request("64Mi")
