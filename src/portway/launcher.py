"""`python -m portway.launcher`: run one KFP component inside an Argo Workflows pod.

The Argo target (portway.compile.argo_target) runs every KFP task through this module; it
does the part of KFP's own driver and launcher that a bare Argo install lacks:

1. turns the Argo inputs (strings on the command line) into the component's typed inputs,
   following the IR's parameter types;
2. downloads each input artifact from its URI (S3, credentials from the pod: IRSA on EKS or
   environment keys from a Secret on kind) to a local path, with the metadata its producer
   wrote beside it;
3. runs the component's Python source (taken from the IR) with KFP's own Executor, so the
   function sees the same Input/Output objects as on Kubeflow Pipelines;
4. uploads each output artifact under `--artifact-root`, then its metadata, and only then
   writes the output parameters (artifact URIs included) to `--outputs-dir`, where Argo
   reads them. A failed step leaves no output parameter, so no downstream task sees a
   half-written artifact.

Arguments (one token each, so a value may hold any character):
  --function=NAME                        the component function in the source
  --artifact-root=URI                    where this task's outputs go (s3://... or a directory)
  --outputs-dir=DIR                      output parameter files (env PORTWAY_OUTPUTS_DIR wins,
                                         so a local runner can remap /tmp/outputs)
  --input-parameter=NAME:TYPE=VALUE      TYPE is the IR parameterType
  --input-artifact=NAME:SCHEMA=URI       SCHEMA is the artifact's schemaTitle
  --output-parameter=NAME:TYPE
  --output-artifact=NAME:SCHEMA
  --source-b64=BASE64 | SOURCE_PATH      the component source (Argo appends a script's path)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from portway.errors import ParameterError, PortwayError, StorageError

OUTPUTS_DIR_ENV = "PORTWAY_OUTPUTS_DIR"
# Artifact metadata (KFP keeps it in ML Metadata) travels in an object beside the artifact:
# Argo parameters are kept in the Workflow object, which etcd caps at 1 MB.
METADATA_SUFFIX = ".kfp-metadata.json"
MODULE_NAME = "ephemeral_component"


@dataclass
class LaunchSpec:
    function: str = ""
    artifact_root: str = ""
    outputs_dir: str = "/tmp/outputs"
    source_path: str | None = None
    source_b64: str | None = None
    input_parameters: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (type, raw value)
    input_artifacts: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (schema, uri)
    output_parameters: dict[str, str] = field(default_factory=dict)  # name -> type
    output_artifacts: dict[str, str] = field(default_factory=dict)  # name -> schema


def _split_declaration(text: str, option: str, with_value: bool) -> tuple[str, str, str]:
    head, sep, value = text.partition("=") if with_value else (text, "", "")
    name, colon, kind = head.partition(":")
    if not name or not colon or not kind or (with_value and not sep):
        form = "NAME:TYPE=VALUE" if with_value else "NAME:TYPE"
        raise ParameterError(f"{option}={text[:60]!r} is malformed; expected {option}={form}.")
    return name, kind, value


def parse_arguments(argv: list[str]) -> LaunchSpec:
    spec = LaunchSpec()
    for token in argv:
        option, sep, rest = token.partition("=")
        if not sep and not token.startswith("--"):
            spec.source_path = token
        elif option == "--function":
            spec.function = rest
        elif option == "--artifact-root":
            spec.artifact_root = rest.rstrip("/")
        elif option == "--outputs-dir":
            spec.outputs_dir = rest
        elif option == "--source-b64":
            spec.source_b64 = rest
        elif option == "--input-parameter":
            name, kind, value = _split_declaration(rest, option, True)
            spec.input_parameters[name] = (kind, value)
        elif option == "--input-artifact":
            name, kind, value = _split_declaration(rest, option, True)
            spec.input_artifacts[name] = (kind, value)
        elif option == "--output-parameter":
            name, kind, _ = _split_declaration(rest, option, False)
            spec.output_parameters[name] = kind
        elif option == "--output-artifact":
            name, kind, _ = _split_declaration(rest, option, False)
            spec.output_artifacts[name] = kind
        else:
            raise ParameterError(f"portway.launcher: unknown argument {token[:60]!r}.")
    if not spec.function or not (spec.source_path or spec.source_b64):
        raise ParameterError("portway.launcher needs --function=NAME and the component source (a path or --source-b64).")
    if (spec.output_artifacts or spec.input_artifacts) and not spec.artifact_root:
        raise ParameterError("portway.launcher needs --artifact-root=URI for a component with artifacts.")
    return spec


def parse_parameter(name: str, kind: str, raw: str):
    """An Argo string as the IR type says (the inverse of argo_target.render_parameter)."""
    try:
        if kind == "STRING":
            return raw
        if kind == "NUMBER_INTEGER":
            number = float(raw)
            if not number.is_integer():
                raise ValueError(raw)
            return int(number)
        if kind == "NUMBER_DOUBLE":
            return float(raw)
        if kind == "BOOLEAN":
            lowered = raw.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError(raw)
            return lowered == "true"
        if kind in ("LIST", "STRUCT"):
            value = json.loads(raw)
            if not isinstance(value, list if kind == "LIST" else dict):
                raise ValueError(raw)
            return value
    except ValueError:
        raise ParameterError(f"input parameter {name} is declared {kind} but got {raw[:80]!r}.") from None
    raise ParameterError(f"input parameter {name} has type {kind}, which the launcher does not support.")


def render_output(value) -> str:
    """An output parameter as Argo passes it on: JSON for bool/list/dict, text otherwise."""
    if isinstance(value, (bool, list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _parent_and_name(uri: str) -> tuple[str, str]:
    parent, _, name = uri.rstrip("/").rpartition("/")
    if not parent or not name:
        raise StorageError(f"artifact URI {uri!r} has no parent prefix; expected s3://bucket/prefix/name.")
    return parent, name


def download_artifact(uri: str, local_path: Path) -> dict:
    """Fetch the artifact at `uri` (one object, or every object under `uri/`); returns its metadata."""
    from portway.objectstore import NotFound, open_store

    parent, name = _parent_and_name(uri)
    directory = open_store(uri)
    keys = directory.list("")
    if keys:
        for key in keys:
            target = local_path / key
            target.parent.mkdir(parents=True, exist_ok=True)
            directory.download_file(key, target)
    else:
        local_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            open_store(parent).download_file(name, local_path)
        except NotFound:
            raise StorageError(f"input artifact {uri} does not exist (neither an object nor a prefix).") from None
    try:
        return json.loads(open_store(parent).get(name + METADATA_SUFFIX).data)
    except NotFound:
        return {}  # an artifact Portway did not produce carries no metadata


def upload_artifact(local_path: Path, uri: str, metadata: dict) -> int:
    """Upload a file or a directory to `uri`, then its metadata last; returns the object count."""
    from portway.objectstore import open_store

    parent, name = _parent_and_name(uri)
    count = 0
    if local_path.is_dir():
        directory = open_store(uri)
        for path in sorted(p for p in local_path.rglob("*") if p.is_file()):
            directory.upload_file(path, path.relative_to(local_path).as_posix())
            count += 1
    elif local_path.is_file():
        open_store(parent).upload_file(local_path, name)
        count = 1
    open_store(parent).put(name + METADATA_SUFFIX, json.dumps(metadata, sort_keys=True, default=str).encode())
    return count


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text)
    os.replace(tmp, path)


def _redirect_remote_mounts(root: Path) -> None:
    """KFP maps s3://b/k to /s3/b/k; inside a read-only container that lives under a temp dir."""
    from kfp.dsl.types import artifact_types

    for prefix in ("_S3_LOCAL_MOUNT_PREFIX", "_GCS_LOCAL_MOUNT_PREFIX", "_MINIO_LOCAL_MOUNT_PREFIX"):
        local = str(root / getattr(artifact_types, prefix).strip("/")) + "/"
        setattr(artifact_types, prefix, local)


def _artifact_path(uri: str, schema: str) -> Path:
    from kfp.dsl.types import artifact_types

    cls = artifact_types._SCHEMA_TITLE_TO_TYPE.get(schema, artifact_types.Artifact)
    return Path(cls(uri=uri).path)


def _load_function(spec: LaunchSpec, workdir: Path):
    import base64

    from kfp.dsl import utils

    if spec.source_b64:
        source = base64.b64decode(spec.source_b64).decode()
    else:
        source = Path(spec.source_path).read_text()
    (workdir / f"{MODULE_NAME}.py").write_text(source)
    os.environ["_KFP_RUNTIME"] = "true"
    module = utils.load_module(module_name=MODULE_NAME, module_directory=str(workdir))
    function = getattr(module, spec.function, None)
    if function is None:
        raise ParameterError(f"the component source defines no function {spec.function!r}.")
    return function


def launch(spec: LaunchSpec) -> dict:
    """Run the component; returns {"parameters": {...}, "artifacts": {name: uri}} as written for Argo."""
    from kfp.dsl import executor as kfp_executor

    outputs_dir = Path(os.environ.get(OUTPUTS_DIR_ENV) or spec.outputs_dir)
    workdir = Path(tempfile.mkdtemp(prefix="portway-launcher-"))
    try:
        _redirect_remote_mounts(workdir / "mnt")
        parameters = {n: parse_parameter(n, kind, raw) for n, (kind, raw) in spec.input_parameters.items()}
        executor_input = {"inputs": {"parameterValues": parameters, "artifacts": {}},
                          "outputs": {"artifacts": {}, "parameters": {},
                                      "outputFile": str(workdir / "task" / "executor_output.json")}}
        for name, (schema, uri) in spec.input_artifacts.items():
            if not uri:
                continue  # an optional input artifact that was not given
            metadata = download_artifact(uri, _artifact_path(uri, schema))
            executor_input["inputs"]["artifacts"][name] = {"artifacts": [
                {"name": name, "uri": uri, "metadata": metadata, "type": {"schemaTitle": schema}}]}
        output_uris = {name: f"{spec.artifact_root}/{name}" for name in spec.output_artifacts}
        for name, schema in spec.output_artifacts.items():
            executor_input["outputs"]["artifacts"][name] = {"artifacts": [
                {"name": name, "uri": output_uris[name], "metadata": {}, "type": {"schemaTitle": schema}}]}
        for name in spec.output_parameters:
            executor_input["outputs"]["parameters"][name] = {"outputFile": str(workdir / "task" / "parameters" / name)}

        function = _load_function(spec, workdir)
        print(f"portway launcher: running {spec.function} with {len(parameters)} parameters and "
              f"{len(executor_input['inputs']['artifacts'])} input artifacts", flush=True)
        output_file = kfp_executor.Executor(executor_input=executor_input, function_to_execute=function).execute()
        executor_output = json.loads(Path(output_file).read_text()) if output_file and Path(output_file).exists() else {}

        values = executor_output.get("parameterValues", {})
        missing = sorted(set(spec.output_parameters) - set(values))
        if missing:
            raise PortwayError(f"component {spec.function} did not produce output parameter(s) {missing}.")
        written_artifacts = executor_output.get("artifacts", {})
        for name, schema in spec.output_artifacts.items():
            runtime = (written_artifacts.get(name, {}).get("artifacts") or [{}])[0]
            uri = runtime.get("uri") or output_uris[name]
            output_uris[name] = uri
            count = upload_artifact(_artifact_path(uri, schema), uri, runtime.get("metadata", {}))
            print(f"portway launcher: output artifact {name}: {count} object(s) at {uri}", flush=True)
        # Parameters last: Argo (and every downstream task) sees only complete artifacts.
        written = {name: render_output(values[name]) for name in spec.output_parameters}
        written.update(output_uris)
        for name, text in written.items():
            _write_atomic(outputs_dir / name, text)
        return {"parameters": {n: written[n] for n in spec.output_parameters}, "artifacts": output_uris}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    try:
        launch(parse_arguments(sys.argv[1:] if argv is None else argv))
    except PortwayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
