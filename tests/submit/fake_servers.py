"""Local HTTP servers that speak the part of the Argo server and KFP APIs `portway submit` uses.

Each runs on 127.0.0.1 in a thread, records every request, and answers like the real server,
including its error answers: 401 for a missing or wrong token, 403 for a namespace the token
may not use, 404 for an unknown namespace (Argo's gRPC gateway: {"code": 5, "message": ...}),
409 for an existing object, 500 on demand.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: dict | None


class FakeServer:
    def __init__(self, token: str | None = None):
        self.token = token
        self.requests: list[Request] = []
        self.fail_with: int | None = None  # answer every request with this status
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def handle_one(self):
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}  # HTTP headers are case-insensitive
                request = Request(self.command, url.path, parse_qs(url.query), headers,
                                  json.loads(raw) if raw else None)
                fake.requests.append(request)
                status, document = fake.answer(request)
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, request: Request) -> tuple[int, dict]:
        if self.fail_with:
            return self.fail_with, {"code": 13, "message": "etcdserver: request timed out"}
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"code": 16, "message": "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/"}
        return self.route(request)

    def route(self, request: Request) -> tuple[int, dict]:
        raise NotImplementedError


@dataclass
class ArgoFake(FakeServer):
    """POST /api/v1/workflows|cron-workflows|workflow-templates/{ns}, GET /api/v1/workflows/{ns}/{name}."""

    token: str | None = None
    namespaces: tuple = ("ml",)
    forbidden: tuple = ()
    # phases a watched workflow goes through, one per GET; the last one sticks
    phases: list = field(default_factory=lambda: ["Pending", "Running", "Succeeded"])
    failed_step: str = "train"

    def __post_init__(self):
        FakeServer.__init__(self, self.token)
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.gets = 0

    def route(self, request):
        parts = request.path.strip("/").split("/")
        if parts[:2] != ["api", "v1"] or len(parts) < 4:
            return 404, {"code": 5, "message": f"Not Found: {request.path}"}
        collection, namespace = parts[2], parts[3]
        if namespace not in self.namespaces:
            return 404, {"code": 5, "message": f'namespaces "{namespace}" not found'}
        if namespace in self.forbidden:
            return 403, {"code": 7, "message": f'workflows.argoproj.io is forbidden: User "system:serviceaccount:x:y" '
                                               f'cannot create resource "{collection}" in the namespace "{namespace}"'}
        if request.method == "POST" and len(parts) == 4:
            key = {"workflows": "workflow", "cron-workflows": "cronWorkflow", "workflow-templates": "template"}[collection]
            document = dict(request.body[key])
            metadata = dict(document["metadata"])
            if "name" not in metadata:
                metadata["name"] = metadata.pop("generateName") + uuid.uuid4().hex[:5]
            if (collection, namespace, metadata["name"]) in self.objects:
                return 409, {"code": 6, "message": f'{collection} "{metadata["name"]}" already exists'}
            metadata.update(namespace=namespace, uid=str(uuid.uuid4()), creationTimestamp="2026-01-01T00:00:00Z")
            document["metadata"] = metadata
            self.objects[(collection, namespace, metadata["name"])] = document
            return 200, document
        if request.method == "GET" and collection == "workflows" and len(parts) == 5:
            document = self.objects.get(("workflows", namespace, parts[4]))
            if document is None:
                return 404, {"code": 5, "message": f'workflows.argoproj.io "{parts[4]}" not found'}
            phase = self.phases[min(self.gets, len(self.phases) - 1)]
            self.gets += 1
            return 200, {**document, "status": self.status(document["metadata"]["name"], phase)}
        return 404, {"code": 5, "message": f"Not Found: {request.method} {request.path}"}

    def status(self, name: str, phase: str) -> dict:
        steps = {"process": "Succeeded", "train": {"Pending": "Pending", "Running": "Running"}.get(phase, "Succeeded")}
        if phase == "Failed":
            steps[self.failed_step] = "Failed"
        nodes = {f"{name}-{i}": {"id": f"{name}-{i}", "name": f"{name}.{step}", "displayName": step, "type": "Pod",
                                 "phase": step_phase, "templateName": step,
                                 **({"message": "Error (exit code 1)"} if step_phase == "Failed" else {})}
                 for i, (step, step_phase) in enumerate(steps.items())}
        status = {"phase": phase, "nodes": nodes}
        if phase == "Failed":
            status["message"] = f"child '{name}-1' failed"
        return status


@dataclass
class KfpFake(FakeServer):
    """The KFP v2beta1 endpoints kfp.Client calls for a run and a recurring run."""

    token: str | None = None
    states: list = field(default_factory=lambda: ["PENDING", "RUNNING", "SUCCEEDED"])
    healthz_status: int = 200

    def __post_init__(self):
        FakeServer.__init__(self, self.token)
        self.experiments: dict[str, dict] = {}
        self.runs: dict[str, dict] = {}
        self.recurring: dict[str, dict] = {}
        self.gets = 0

    def route(self, request):
        path = request.path.rstrip("/")
        if path == "/apis/v2beta1/healthz":
            if self.healthz_status != 200:
                return self.healthz_status, {"error": "forbidden by the auth proxy", "code": 7}
            return 200, {"commit_sha": "fake", "tag_name": "2.4.0", "multi_user": False}
        if path == "/apis/v2beta1/experiments" and request.method == "GET":
            wanted = json.loads(request.query.get("filter", ["{}"])[0]).get("predicates", [{}])[0].get("string_value") \
                or json.loads(request.query.get("filter", ["{}"])[0]).get("predicates", [{}])[0].get("stringValue")
            found = [e for e in self.experiments.values() if e["display_name"] == wanted]
            return 200, ({"experiments": found, "total_size": len(found)} if found else {})
        if path == "/apis/v2beta1/experiments" and request.method == "POST":
            experiment = {**request.body, "experiment_id": str(uuid.uuid4())}
            self.experiments[experiment["experiment_id"]] = experiment
            return 200, experiment
        if path == "/apis/v2beta1/runs" and request.method == "POST":
            run = {**request.body, "run_id": str(uuid.uuid4()), "state": "PENDING"}
            self.runs[run["run_id"]] = run
            return 200, run
        if path.startswith("/apis/v2beta1/runs/") and request.method == "GET":
            run = self.runs.get(path.rsplit("/", 1)[-1])
            if run is None:
                return 404, {"error": "run not found", "code": 5}
            state = self.states[min(self.gets, len(self.states) - 1)]
            self.gets += 1
            answer = {**run, "state": state}
            if state == "FAILED":
                answer["error"] = {"code": 2, "message": "task train failed"}
            return 200, answer
        if path == "/apis/v2beta1/recurringruns" and request.method == "POST":
            recurring = {**request.body, "recurring_run_id": str(uuid.uuid4()), "status": "ENABLED"}
            self.recurring[recurring["recurring_run_id"]] = recurring
            return 200, recurring
        return 404, {"error": f"no route for {request.method} {request.path}", "code": 5}
