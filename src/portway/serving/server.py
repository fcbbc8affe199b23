"""`portway serve`: a registered model in MLServer on this machine, as KServe would serve it.

KServe serves `modelFormat: xgboost` on the V2 protocol with MLServer's XGBoost runtime; this
runs the same server and runtime (plus request checks, see runtime.py) on the same
`model.json`, so a request that works here works against the InferenceService. The model
repository is an ordinary MLServer folder:

    <workdir>/settings.json                 server: host, ports, metrics
    <workdir>/<group>/model-settings.json   model: name, version, runtime
    <workdir>/<group>/model.json, feature_schema.json, ...   the version's files

`mlserver start <workdir>` serves the same folder without Portway's body size limit.
"""

from __future__ import annotations

import contextlib
import json
import socket
import tempfile
from pathlib import Path

from portway.errors import ParameterError, RegistryError
from portway.fileio import write_json_atomic
from portway.serving.limits import DEFAULT_MAX_REQUEST_BYTES

RUNTIME = "portway.serving.runtime.ValidatingXGBoostModel"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def server_settings(host: str, http_port: int, grpc_port: int, metrics_port: int, workdir: Path) -> dict:
    """MLServer's settings.json."""
    return {
        "server_name": "portway",
        "host": host,
        "http_port": http_port,
        # MLServer always starts its gRPC server too (no switch to turn it off); it listens on
        # the same host.
        "grpc_port": grpc_port,
        "metrics_endpoint": "/metrics",
        "metrics_port": metrics_port,
        # mlserver + mlserver-xgboost 1.7.1 serve an XGBoost model here ONLY with parallel_workers 0:
        # inference then runs in the server process instead of a pool of worker processes.
        "parallel_workers": 0,
        "debug": False,
        "load_models_at_startup": True,
        # Both default to folders in the current directory; keep them in the work folder.
        "environments_dir": str(workdir / ".envs"),
        "metrics_dir": str(workdir / ".metrics"),
    }


def model_settings(record: dict, feature_names: list[str]) -> dict:
    """MLServer's model-settings.json for a registry version."""
    return {
        "name": record["group"],
        "implementation": RUNTIME,
        "versions": [str(record["version"])],
        "parameters": {"uri": "./model.json", "version": str(record["version"])},
        # What /v2/models/<group> reports: one FP32 tensor, the features in this order.
        "inputs": [{"name": "input-0", "datatype": "FP32", "shape": [-1, len(feature_names)],
                    "parameters": {"feature_names": feature_names}}],
    }


def prepare_repository(registry, record: dict, workdir: str | Path) -> Path:
    """Download the version's files and write both settings files. Returns the model folder."""
    from portway.steps.train import FEATURE_SCHEMA_FILE, MODEL_FILE, load_booster

    if record.get("model_format", "xgboost") != "xgboost":
        raise RegistryError(f"{record['group']}:{record['version']} is a {record['model_format']!r} model; "
                            "portway serve runs XGBoost models.")
    model_dir = registry.download_artifacts(record, Path(workdir) / record["group"])
    for name in (MODEL_FILE, FEATURE_SCHEMA_FILE):
        if not (model_dir / name).is_file():
            raise RegistryError(f"{record['group']}:{record['version']} has no {name} in {record['artifact_uri']}.")
    load_booster(str(model_dir))  # fail here, with the file named, rather than inside the server
    schema = json.loads((model_dir / FEATURE_SCHEMA_FILE).read_text())
    write_json_atomic(model_dir / "model-settings.json", model_settings(record, schema["feature_names"]))
    return model_dir


def check_port_free(host: str, port: int, flag: str) -> None:
    """A clear message now beats uvicorn's exit from deep inside the event loop."""
    if not 0 < port < 65536:
        raise ParameterError(f"{flag} {port} is not a TCP port (1-65535).")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        # As uvicorn binds: a port whose old connections linger in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ParameterError(f"Cannot listen on {host}:{port} ({flag}): {exc.strerror}. "
                                 f"Pick another port with {flag}.") from None


def _limited_server_class():
    from mlserver import MLServer

    from portway.serving.limits import BodySizeLimit

    class LimitedMLServer(MLServer):
        def __init__(self, settings, max_request_bytes: int):
            self._max_request_bytes = max_request_bytes
            super().__init__(settings)

        def _create_servers(self):
            super()._create_servers()
            # mlserver 1.7.1 (pinned) has no body size setting; its REST app is this attribute.
            self._rest_server._app.add_middleware(BodySizeLimit, max_bytes=self._max_request_bytes)

    return LimitedMLServer


async def _run(folder: Path, max_request_bytes: int) -> None:
    from mlserver.cli.serve import load_settings

    settings, models = await load_settings(str(folder))
    # Constructed inside the running loop: MLServer installs its SIGINT/SIGTERM handlers on it.
    server = _limited_server_class()(settings, max_request_bytes)
    await server.start(models)


def serve(
    registry,
    reference: str,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    grpc_port: int | None = None,
    metrics_port: int | None = None,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    workdir: str | None = None,
    announce=print,
) -> None:
    """Serve `reference` until interrupted (SIGINT/SIGTERM)."""
    import asyncio

    if max_request_bytes < 1024:
        raise ParameterError(f"--max-request-bytes {max_request_bytes} is too small; the limit is at least 1024.")
    grpc_port = grpc_port or port + 1
    metrics_port = metrics_port or port + 2
    ports = {"--port": port, "--grpc-port": grpc_port, "--metrics-port": metrics_port}
    if len(set(ports.values())) != len(ports):
        raise ParameterError(f"The HTTP, gRPC and metrics ports must differ; got {ports}.")
    for flag, number in ports.items():
        check_port_free(host, number, flag)
    record = registry.resolve(reference)

    with contextlib.ExitStack() as stack:
        if workdir is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="portway-serve-")))
        else:
            folder = Path(workdir).expanduser().resolve()
            folder.mkdir(parents=True, exist_ok=True)
        prepare_repository(registry, record, folder)
        write_json_atomic(folder / "settings.json", server_settings(host, port, grpc_port, metrics_port, folder))
        base = f"http://{host}:{port}"
        announce(
            f"serving {record['group']}:{record['version']} ({record.get('approval_status')}) from {folder}\n"
            f"  infer:   POST {base}/v2/models/{record['group']}/infer\n"
            f"  ready:   GET  {base}/v2/health/ready\n"
            f"  metrics: GET  http://{host}:{metrics_port}/metrics\n"
            f"  gRPC:    {host}:{grpc_port}"
        )
        asyncio.run(_run(folder, max_request_bytes))
