"""Workflows on an Argo server (hera's WorkflowsService, the server's REST API).

Routes (Argo server swagger, argo-workflows v4.0.5 api/openapi-spec/swagger.json):
GET /api/v1/workflows/{namespace} (WorkflowList), GET /api/v1/workflows/{namespace}/{name},
PUT /api/v1/workflows/{namespace}/{name}/stop (WorkflowStopRequest), and
GET /api/v1/workflows/{namespace}/{name}/log, a stream of {"result": LogEntry} lines
(LogEntry: content, podName), read here directly since hera parses it as one object.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from portway.runs import CANCELED, FAILED, PENDING, RUNNING, SUCCEEDED, UNKNOWN, Run, Step, seconds_between
from portway.submit import REQUEST_TIMEOUT_SECONDS, refused, timeout_session, unreachable
from portway.submit.argo import TOKEN_HINT, call, service, watch_workflow

PHASES = {"Pending": PENDING, "Running": RUNNING, "Succeeded": SUCCEEDED, "Failed": FAILED, "Error": FAILED}
# A workflow stopped or terminated ends Failed with this message (workflow/controller/operator.go).
STOPPED_MARKERS = ("Stopped with strategy", "Terminated")
PIPELINE_LABEL = "portway.dev/pipeline"
LIST_FIELDS = "-items.status.nodes,-items.status.storedTemplates"  # hera needs items.spec


class Argo:
    def __init__(self, server: str | None, namespace: str | None, token: str | None, verify: bool | str):
        from portway.errors import ParameterError

        self.workflows = service(server, token, verify)
        if not namespace:
            raise ParameterError("--target argo needs --namespace (or ARGO_NAMESPACE), where the workflows run.")
        self.server, self.namespace, self.verify = server, namespace, verify

    def _call(self, action):
        return call(self.server, self.namespace, action)

    def list_runs(self, limit: int | None = None, pipeline: str | None = None) -> list[Run]:
        selector = f"{PIPELINE_LABEL}={pipeline}" if pipeline else None
        # The table needs no nodes: leave them out, as the swagger's `fields` parameter allows ("-items.status.nodes").
        listing = self._call(lambda: self.workflows.list_workflows(
            namespace=self.namespace, label_selector=selector, limit=str(limit) if limit else None,
            fields=LIST_FIELDS))
        items = [to_run(w.model_dump(mode="json", by_alias=True, exclude_none=True), self.namespace)
                 for w in (listing.items or [])]
        return sorted(items, key=lambda r: r.started, reverse=True)

    def show_run(self, name: str) -> Run:
        workflow = self._call(lambda: self.workflows.get_workflow(name, namespace=self.namespace))
        return to_run(workflow.model_dump(mode="json", by_alias=True, exclude_none=True), self.namespace)

    def logs(self, name: str, follow: bool = False):
        """{"podName", "content"} of the workflow's main containers, in the server's order, as they arrive."""
        import requests

        url = f"{self.server.rstrip('/')}/api/v1/workflows/{self.namespace}/{name}/log"
        params = {"logOptions.container": "main", **({"logOptions.follow": "true"} if follow else {})}
        headers = {"Authorization": self.workflows.token} if self.workflows.token else {}
        try:
            response = timeout_session(self.verify).get(url, params=params, headers=headers, stream=follow,
                                                        timeout=None if follow else REQUEST_TIMEOUT_SECONDS)
        except requests.exceptions.RequestException as exc:
            raise unreachable("Argo server", self.server, exc) from None
        if not response.ok:
            message = _error_message(response.text)
            raise refused("Argo server", self.server, response.status_code, message, TOKEN_HINT, self.namespace)
        for line in response.iter_lines(decode_unicode=True):
            if not line.strip():
                continue
            document = json.loads(line)
            if "error" in document:  # a grpc-gateway StreamError in the middle of the stream
                raise refused("Argo server", self.server, document["error"].get("http_code", 500),
                              document["error"].get("message", ""), TOKEN_HINT, self.namespace)
            yield document.get("result", {})

    def watch(self, name: str, poll_seconds: float, timeout_seconds: float | None,
              echo: Callable[[str], None]) -> Run:
        watch_workflow(self.workflows, self.server, self.namespace, name, poll_seconds, timeout_seconds, echo)
        return self.show_run(name)

    def stop(self, name: str, echo: Callable[[str], None]) -> Run:
        """`argo stop`: the controller stops the pods and runs exit handlers; the workflow ends Failed."""
        from hera.workflows import models as m

        current = self.show_run(name)
        if current.status in (SUCCEEDED, FAILED, CANCELED):
            echo(f"workflow {self.namespace}/{name} already ended: {current.native_status}; nothing to stop.")
            return current
        request = m.WorkflowStopRequest(name=name, namespace=self.namespace)
        workflow = self._call(lambda: self.workflows.stop_workflow(name, request, namespace=self.namespace))
        echo(f"stop requested for workflow {self.namespace}/{name} on {self.server}")
        return to_run(workflow.model_dump(mode="json", by_alias=True, exclude_none=True), self.namespace)


def _error_message(body: str) -> str:
    try:
        return json.loads(body).get("message") or body
    except (ValueError, AttributeError):
        return body


def to_run(workflow: dict, namespace: str) -> Run:
    metadata, status = workflow.get("metadata", {}), workflow.get("status", {})
    phase = status.get("phase") or "Pending"
    message = status.get("message", "")
    normal = PHASES.get(phase, UNKNOWN)
    if normal == FAILED and message.startswith(STOPPED_MARKERS):
        normal = CANCELED
    steps = [Step(name=node.get("displayName", node.get("name", "?")),
                  status=PHASES.get(node.get("phase"), (node.get("phase") or "?").upper()),
                  seconds=seconds_between(node.get("startedAt", ""), node.get("finishedAt", "")),
                  message=node.get("message", ""))
             for node in sorted(status.get("nodes", {}).values(), key=lambda n: n.get("startedAt") or "")
             if node.get("type") in ("Pod", "Skipped")]
    started = status.get("startedAt") or metadata.get("creationTimestamp", "")
    return Run(target="argo", id=metadata.get("name", "?"), status=normal, native_status=phase,
               pipeline=(metadata.get("labels") or {}).get(PIPELINE_LABEL, ""), started=started,
               finished=status.get("finishedAt", ""), seconds=seconds_between(started, status.get("finishedAt", "")),
               message=message, location=f"{namespace}/{metadata.get('name', '?')}", steps=steps)
