"""KFP target: the pipeline compiled to KFP IR (a PipelineSpec and its PlatformSpec).

The KFP SDK's own compiler writes the IR; this module only loads it back as documents,
points the project's executors at the requested image, and checks that both documents
parse strictly into KFP's protobuf messages (an unknown field is an error, as it is for the
KFP API server).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from portway.config import DEFAULT_IMAGE, IMAGE_REPOSITORY
from portway.errors import ParameterError


def compile_kfp(pipeline, image: str | None = None) -> dict:
    """{"pipeline_spec": dict, "platform_spec": dict | None} for `pipeline` (a @dsl.pipeline)."""
    compiled = ir_documents(pipeline)
    if image is not None:
        set_project_image(compiled["pipeline_spec"], image)
    parse_strict(compiled)
    return compiled


def ir_documents(pipeline) -> dict:
    """The documents `kfp.compiler.Compiler().compile` writes, without the YAML file in between.

    Compiler.compile (kfp/compiler/compiler.py) applies `modify_pipeline_spec_with_override` and
    `write_pipeline_spec_to_file` turns the PipelineSpec and PlatformSpec into dicts with protobuf's
    MessageToDict, then dumps them as YAML. Writing and re-reading that YAML in pure Python was most of
    the time for a large pipeline (about 7 s of 7.4 s at 1,000 tasks, BENCHMARKS.md), so the dicts are
    taken here directly; tests/compile/test_kfp_target.py checks they equal what the compiler writes.
    """
    from google.protobuf import json_format
    from kfp.compiler import pipeline_spec_builder

    pipeline_spec = pipeline_spec_builder.modify_pipeline_spec_with_override(
        pipeline_spec=pipeline.pipeline_spec, pipeline_name=None, pipeline_parameters=None,
        pipeline_display_name=None)
    platform_spec = pipeline.platform_spec
    compiled = {"pipeline_spec": json_format.MessageToDict(pipeline_spec),
                "platform_spec": json_format.MessageToDict(platform_spec) if len(platform_spec.platforms) else None}
    _check_workspace(compiled)
    return compiled


def _check_workspace(compiled: dict) -> None:
    """The one check write_pipeline_spec_to_file makes: an importer that downloads to the workspace
    needs the pipeline's workspace config (kfp/compiler/pipeline_spec_builder.py)."""
    executors = compiled["pipeline_spec"].get("deploymentSpec", {}).get("executors", {})
    downloads = any(e.get("importer", {}).get("downloadToWorkspace") for e in executors.values())
    platforms = (compiled["platform_spec"] or {}).get("platforms", {})
    if downloads and not any((p.get("pipelineConfig") or {}).get("workspace") for p in platforms.values()):
        raise ParameterError("dsl.importer(download_to_workspace=True) requires "
                             "pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size=...)) "
                             "on the @dsl.pipeline.")


def validate_image(image: str) -> str:
    """An image reference: repository[:tag][@sha256:digest], no spaces or scheme."""
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9._/:-]*(?:@sha256:[0-9a-f]{64})?", image or "") or "://" in image:
        raise ParameterError(
            f"--image {image!r} is not an image reference; expected e.g. {IMAGE_REPOSITORY}:1.2.3 "
            f"or {IMAGE_REPOSITORY}@sha256:<64 hex digits>."
        )
    return image


def set_project_image(pipeline_spec: dict, image: str) -> int:
    """Point every executor that runs the project image (any tag) at `image`; returns how many."""
    validate_image(image)
    changed = 0
    for executor in pipeline_spec.get("deploymentSpec", {}).get("executors", {}).values():
        container = executor.get("container")
        if container and is_project_image(container.get("image", "")):
            container["image"] = image
            changed += 1
    return changed


def is_project_image(image: str) -> bool:
    return image == DEFAULT_IMAGE or image.split("@")[0].rsplit(":", 1)[0] == IMAGE_REPOSITORY


def parse_strict(compiled: dict) -> None:
    """Parse the documents into KFP's protobuf messages; an unknown field raises ParseError."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    json_format.ParseDict(compiled["pipeline_spec"], pipeline_spec_pb2.PipelineSpec())
    if compiled.get("platform_spec"):
        json_format.ParseDict(compiled["platform_spec"], pipeline_spec_pb2.PlatformSpec())
        # The PlatformSpec holds each executor's settings as a free-form Struct; kfp-kubernetes's
        # own message is what the KFP driver reads them into.
        from kfp.kubernetes import kubernetes_executor_config_pb2

        kubernetes = compiled["platform_spec"].get("platforms", {}).get("kubernetes", {})
        for config in kubernetes.get("deploymentSpec", {}).get("executors", {}).values():
            json_format.ParseDict(config, kubernetes_executor_config_pb2.KubernetesExecutorConfig())


def kfp_yaml(compiled: dict) -> str:
    """The documents as the KFP SDK writes them (PipelineSpec, then PlatformSpec)."""
    import yaml

    documents = [compiled["pipeline_spec"]] + ([compiled["platform_spec"]] if compiled.get("platform_spec") else [])
    return yaml.safe_dump_all(documents, sort_keys=True)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write a whole file or nothing: readers never see a half-written package."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
