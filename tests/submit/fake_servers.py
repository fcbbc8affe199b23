"""Local HTTP servers that speak the part of the Argo server and KFP APIs `portway submit` and
`portway runs` use.

Each runs on 127.0.0.1 in a thread, records every request, and answers like the real server,
including its error answers: 401 for a missing or wrong token, 403 for a namespace the token
may not use, 404 for an unknown namespace or object (Argo's gRPC gateway: {"code": 5, "message": ...}),
409 for an existing object, 500 on demand.

Routes and shapes follow the servers' published API descriptions:
- Argo: the Argo server's swagger (argo-workflows v4.0.5 api/openapi-spec/swagger.json, in
  ../shared/schemas/argo-workflows/v4.0.5/swagger.json): POST/GET /api/v1/workflows/{namespace}
  (WorkflowList: items, metadata), GET /api/v1/workflows/{namespace}/{name},
  PUT /api/v1/workflows/{namespace}/{name}/stop, GET /api/v1/workflows/{namespace}/{name}/log
  ("Stream result of LogEntry": one {"result": {"content", "podName"}} JSON object per line, as
  grpc-gateway streams); query listOptions.labelSelector, listOptions.limit, logOptions.container.
  A stopped workflow ends Failed with "Stopped with strategy 'Stop'" (argo-workflows
  workflow/controller/operator.go).
- KFP: the v2beta1 RunService (kubeflow/pipelines backend/api/v2beta1/run.proto; routes as
  kfp_server_api's RunServiceApi calls them): GET /apis/v2beta1/runs (runs, total_size,
  next_page_token; page_size, sort_by), GET /apis/v2beta1/runs/{run_id},
  POST /apis/v2beta1/runs/{run_id}:terminate (an empty object; the run goes CANCELING, then CANCELED).
"""

from __future__ import annotations

import copy
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
        self.lock = threading.Lock()
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
                with fake.lock:
                    status, document = fake.answer(request)
                # a streamed answer (Argo's log) is a list of objects, one JSON document per line
                payload = ("".join(json.dumps(d) + "\n" for d in document) if isinstance(document, list)
                           else json.dumps(document)).encode()
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
    """POST /api/v1/workflows|cron-workflows|workflow-templates/{ns}, GET /api/v1/workflows/{ns}[/{name}[/log]],
    PUT /api/v1/workflows/{ns}/{name}/stop."""

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
        self.statuses: dict[tuple[str, str], dict] = {}  # fixed status of a seeded workflow
        self.logs: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (podName, line) per workflow

    def add_workflow(self, name: str, phase: str, steps: dict[str, str], namespace: str = "ml",
                     pipeline: str = "continuous-training", started: str = "2026-01-01T00:00:00Z",
                     logs: list[tuple[str, str]] = (), message: str = "") -> None:
        """A workflow as the controller leaves it: status with one Pod node per step."""
        self.objects[("workflows", namespace, name)] = {
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": name, "namespace": namespace, "uid": str(uuid.uuid4()), "creationTimestamp": started,
                         "labels": {"portway.dev/pipeline": pipeline}},
            "spec": {"entrypoint": "main"}}
        finished = "2026-01-01T00:02:00Z" if phase in ("Succeeded", "Failed", "Error") else None
        nodes = {f"{name}-{i}": {"id": f"{name}-{i}", "name": f"{name}.{step}", "displayName": step, "type": "Pod",
                                 "phase": step_phase, "templateName": step, "startedAt": f"2026-01-01T00:0{i}:00Z",
                                 **({"finishedAt": f"2026-01-01T00:0{i}:30Z"}
                                    if step_phase in ("Succeeded", "Failed") else {}),
                                 **({"message": "Error (exit code 1)"} if step_phase == "Failed" else {})}
                 for i, (step, step_phase) in enumerate(steps.items())}
        self.statuses[(namespace, name)] = {"phase": phase, "startedAt": started, "nodes": nodes,
                                            **({"finishedAt": finished} if finished else {}),
                                            **({"message": message} if message else {})}
        self.logs[(namespace, name)] = list(logs)

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
        if request.method == "GET" and collection == "workflows" and len(parts) == 4:
            return 200, self.workflow_list(namespace, request.query)
        document = self.objects.get(("workflows", namespace, parts[4])) if collection == "workflows" else None
        if collection == "workflows" and len(parts) in (5, 6) and document is None:
            return 404, {"code": 5, "message": f'workflows.argoproj.io "{parts[4]}" not found'}
        if request.method == "GET" and collection == "workflows" and len(parts) == 6 and parts[5] == "log":
            if request.query.get("logOptions.container") != ["main"]:
                return 400, {"code": 3, "message": "a container name must be specified for the log"}
            return 200, [{"result": {"content": line, "podName": pod}} for pod, line in self.logs.get(
                (namespace, parts[4]), [])]
        if request.method == "PUT" and collection == "workflows" and len(parts) == 6 and parts[5] == "stop":
            status = self.statuses.get((namespace, parts[4]))
            if status is None or status["phase"] not in ("Pending", "Running"):
                return 400, {"code": 9, "message": "cannot shutdown a completed workflow"}
            document["spec"]["shutdown"] = "Stop"
            status.update(phase="Failed", message="Stopped with strategy 'Stop'", finishedAt="2026-01-01T00:05:00Z")
            for node in status["nodes"].values():
                if node["phase"] in ("Pending", "Running"):
                    node.update(phase="Failed", message="workflow shutdown with strategy:  Stop")
            return 200, {**document, "status": status}
        if request.method == "GET" and collection == "workflows" and len(parts) == 5:
            if (namespace, parts[4]) in self.statuses:
                return 200, {**document, "status": self.statuses[(namespace, parts[4])]}
            phase = self.phases[min(self.gets, len(self.phases) - 1)]
            self.gets += 1
            return 200, {**document, "status": self.status(document["metadata"]["name"], phase)}
        return 404, {"code": 5, "message": f"Not Found: {request.method} {request.path}"}

    def workflow_list(self, namespace: str, query: dict) -> dict:
        selector = query.get("listOptions.labelSelector", [""])[0]
        wanted = dict(pair.split("=", 1) for pair in selector.split(",") if pair)
        items = []
        for (collection, ns, name), document in self.objects.items():
            labels = document["metadata"].get("labels", {})
            if collection == "workflows" and ns == namespace and all(labels.get(k) == v for k, v in wanted.items()):
                items.append(copy.deepcopy({**document, "status": self.statuses.get((ns, name), {})}))
        limit = int(query.get("listOptions.limit", ["0"])[0] or 0)
        items = items[:limit] if limit else items
        # `fields`: "-a.b" leaves a.b out of every item (only the exclusion form, which portway uses)
        for excluded in query.get("fields", [""])[0].split(","):
            if excluded.startswith("-items."):
                *parents, leaf = excluded.removeprefix("-items.").split(".")
                for item in items:
                    target = item
                    for key in parents:
                        target = target.get(key, {})
                    target.pop(leaf, None)
        return {"metadata": {"resourceVersion": "1"}, "items": items}

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
        self.fixed: set[str] = set()  # seeded runs keep their own state

    def add_run(self, display_name: str, state: str, tasks: dict[str, str],
                created_at: str = "2026-01-01T00:00:00Z") -> str:
        """A run as the API reports it, one task detail per step (plus KFP's root task)."""
        run_id = str(uuid.uuid4())
        finished = state in ("SUCCEEDED", "FAILED", "CANCELED", "SKIPPED")
        details = [{"run_id": run_id, "task_id": str(uuid.uuid4()), "display_name": "root", "state": state}]
        details += [{"run_id": run_id, "task_id": str(uuid.uuid4()), "display_name": name, "state": task_state,
                     "start_time": "2026-01-01T00:00:10Z",
                     "end_time": "2026-01-01T00:01:10Z" if task_state in ("SUCCEEDED", "FAILED") else
                     "1970-01-01T00:00:00Z", "pod_name": f"{display_name}-{name}-pod",
                     **({"error": {"code": 2, "message": f"task {name} failed"}} if task_state == "FAILED" else {})}
                    for name, task_state in tasks.items()]
        self.runs[run_id] = {"run_id": run_id, "display_name": display_name, "experiment_id": "e1",
                             "storage_state": "AVAILABLE", "created_at": created_at, "state": state,
                             "finished_at": "2026-01-01T00:02:00Z" if finished else "1970-01-01T00:00:00Z",
                             "run_details": {"task_details": details},
                             **({"error": {"code": 2, "message": "task train failed"}} if state == "FAILED" else {})}
        self.fixed.add(run_id)
        return run_id

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
        if path == "/apis/v2beta1/runs" and request.method == "GET":
            size = int(request.query.get("page_size", ["20"])[0])
            runs = sorted(self.runs.values(), key=lambda r: r.get("created_at", ""), reverse=True)
            return 200, ({"runs": runs[:size], "total_size": len(runs)} if runs else {})
        if path.startswith("/apis/v2beta1/runs/") and path.endswith(":terminate") and request.method == "POST":
            run_id = path.rsplit("/", 1)[-1].removesuffix(":terminate")
            if run_id not in self.runs:
                return 404, {"error": f"Failed to terminate a run: Run {run_id} not found", "code": 5}
            if self.runs[run_id]["state"] not in ("PENDING", "RUNNING"):
                return 400, {"error": f"Run {run_id} is already in a final state", "code": 9}
            self.runs[run_id]["state"] = "CANCELED"
            self.runs[run_id]["finished_at"] = "2026-01-01T00:05:00Z"
            return 200, {}
        if path.startswith("/apis/v2beta1/runs/") and request.method == "GET":
            run_id = path.rsplit("/", 1)[-1]
            run = self.runs.get(run_id)
            if run is None:
                return 404, {"error": f"Failed to get a run: ResourceNotFoundError: Run {run_id} not found",
                             "code": 5}
            if run_id in self.fixed:
                return 200, run
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
