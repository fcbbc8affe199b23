"""dsl.importer: no pod. The artifact is known from its URI, so the importer is a value, not a step.

KFP's importer (backend/src/v2/component/importer_launcher.go) records the URI and metadata in ML
Metadata; `reimport` only decides whether an existing MLMD record is reused, which changes nothing
a downstream step sees. On Argo the downstream task receives {"name", "uri", "metadata"} directly.
The URI must be in the artifact repository's bucket (artifacts.py).
"""

from __future__ import annotations

from portway.compile.argo import refs
from portway.compile.argo.ir import MalformedIR, UnsupportedFeature


def importer_output(importer: dict, inputs: dict[str, refs.Ref], task: str, bucket: str) -> refs.Ref:
    source = importer.get("artifactUri")
    if not isinstance(source, dict):
        raise MalformedIR(f"pipeline IR: importer task {task!r}: artifactUri is missing.")
    if "constant" in source:
        uri = source["constant"]
        if not isinstance(uri, str) or not uri.startswith(f"s3://{bucket}/"):
            raise UnsupportedFeature(f"importer task {task!r}: {uri!r} is not under s3://{bucket}/, the artifact "
                                     "repository's bucket (--artifact-root); Argo could not fetch it for a step.")
        uri_ref = refs.constant(uri, "STRING")
    elif "runtimeParameter" in source:
        name = source["runtimeParameter"]
        if name not in inputs:
            raise MalformedIR(f"pipeline IR: importer task {task!r} reads its URI from input {name!r}, which it "
                              "is not given.")
        uri_ref = inputs[name]
    else:
        raise MalformedIR(f"pipeline IR: importer task {task!r}: artifactUri has neither constant nor runtimeParameter.")
    metadata = importer.get("metadata") or {}
    if "{{$" in str(metadata):
        raise UnsupportedFeature(f"importer task {task!r}: metadata computed from inputs is not supported.")
    return refs.artifact_from_uri(uri_ref, "artifact", metadata)
