"""Submit an Argo document through the Argo server's REST API (hera's WorkflowsService)."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable

from portway.errors import ParameterError, PipelineFailed
from portway.submit import StillRunning, SubmitError, refused, timeout_session, unreachable

TOKEN_ENV = "ARGO_TOKEN"
TOKEN_HINT = "Pass a token with --token or ARGO_TOKEN (e.g. `argo auth token`)."
FINISHED = {"Succeeded", "Failed", "Error"}


def service(server: str | None, token: str | None, verify: bool | str):
    """hera's WorkflowsService for the Argo server, with a deadline on every request."""
    from hera.workflows import WorkflowsService

    if not server:
        raise ParameterError("--target argo needs --server (or ARGO_SERVER), the Argo server URL "
                             "(e.g. https://argo.example).")
    if not server.startswith(("http://", "https://")):
        raise ParameterError(f"--server {server!r} needs a scheme: https://argo.example or http://127.0.0.1:2746.")
    return WorkflowsService(host=server.rstrip("/") + "/", token=token or os.environ.get(TOKEN_ENV) or None,
                            verify_ssl=verify, session=timeout_session(verify))


def call(server: str, namespace: str, action: Callable, what: str = "Argo server"):
    """Run one API call; turn hera's and requests' exceptions into SubmitError."""
    import requests
    from hera.exceptions import HeraException

    try:
        with warnings.catch_warnings():
            # hera 7.1 serialises requests with pydantic's deprecated .json(); not the user's concern.
            warnings.simplefilter("ignore", DeprecationWarning)
            return action()
    except requests.exceptions.RequestException as exc:
        raise unreachable(what, server, exc) from None
    except HeraException as exc:
        message = str(exc).split("with message: ", 1)[-1].strip("`")
        status = getattr(exc, "status_code", 0)
        if status == 409:
            raise SubmitError(f"the object already exists in namespace {namespace!r} on {server} (409): {message}. "
                              "Delete it or pass another --name.") from None
        if status == 400:
            raise SubmitError(f"the Argo server at {server} rejected the submission (400): {message}.") from None
        raise refused(what, server, status, message, TOKEN_HINT, namespace) from None


def submit_argo(document: dict, server: str, namespace: str, token: str | None = None, verify: bool | str = True,
                watch: bool = False, poll_seconds: float = 5.0, timeout_seconds: float | None = None,
                echo: Callable[[str], None] = print) -> dict:
    """Create the Workflow / WorkflowTemplate / CronWorkflow; with `watch`, follow a Workflow to its end.

    Returns {"kind", "name", "namespace", "phase"}; raises PipelineFailed if a watched run fails."""
    from hera.workflows import models as m

    kind = document.get("kind")
    workflows = service(server, token, verify)
    if kind == "Workflow":
        request = m.WorkflowCreateRequest(workflow=m.Workflow.model_validate(document))
        created = call(server, namespace, lambda: workflows.create_workflow(request, namespace=namespace))
    elif kind == "WorkflowTemplate":
        request = m.WorkflowTemplateCreateRequest(template=m.WorkflowTemplate.model_validate(document))
        created = call(server, namespace, lambda: workflows.create_workflow_template(request, namespace=namespace))
    elif kind == "CronWorkflow":
        request = m.CreateCronWorkflowRequest(cron_workflow=m.CronWorkflow.model_validate(document))
        created = call(server, namespace, lambda: workflows.create_cron_workflow(request, namespace=namespace))
    else:
        raise ParameterError(f"cannot submit a {kind!r} to Argo; expected Workflow, WorkflowTemplate or CronWorkflow.")
    name = created.metadata.name
    echo(f"created {kind} {namespace}/{name} on {server}")
    result = {"kind": kind, "name": name, "namespace": namespace, "phase": None}
    if watch:
        if kind != "Workflow":
            raise ParameterError(f"--watch follows a Workflow run; a {kind} starts none by itself.")
        result["phase"] = watch_workflow(workflows, server, namespace, name, poll_seconds, timeout_seconds, echo)
    return result


def watch_workflow(workflows, server: str, namespace: str, name: str, poll_seconds: float,
                   timeout_seconds: float | None, echo: Callable[[str], None]) -> str:
    """Poll until the run ends; print each step's phase as it changes. Raises PipelineFailed on failure."""
    started = time.monotonic()
    seen: dict[str, str] = {}
    while True:
        workflow = call(server, namespace, lambda: workflows.get_workflow(name, namespace=namespace))
        status = workflow.status
        for node in sorted((status.nodes or {}).values() if status else [], key=lambda n: n.display_name or ""):
            if node.type in ("Pod", "Skipped") and seen.get(node.id) != node.phase:
                seen[node.id] = node.phase
                echo(f"  {node.display_name}: {node.phase}" + (f" ({node.message})" if node.message else ""))
        phase = status.phase if status else None
        if phase in FINISHED:
            if phase != "Succeeded":
                failed = [n.display_name for n in (status.nodes or {}).values() if n.phase in ("Failed", "Error")
                          and n.type == "Pod"]
                where = f"; failed step(s): {', '.join(sorted(failed))}" if failed else ""
                raise PipelineFailed(f"workflow {namespace}/{name} {phase}: {status.message or 'no message'}{where} "
                                     f"(logs: portway runs logs {name} --target argo -n {namespace})")
            echo(f"workflow {namespace}/{name} Succeeded")
            return phase
        if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
            raise StillRunning(f"workflow {namespace}/{name} is still {phase or 'Pending'} after {timeout_seconds:.0f}s "
                              "(--timeout); it keeps running on the cluster.")
        time.sleep(poll_seconds)
