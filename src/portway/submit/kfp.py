"""Submit KFP IR to a Kubeflow Pipelines API server with kfp.Client: a run, or a recurring run."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from portway.errors import ParameterError, PipelineFailed
from portway.submit import (
    REQUEST_TIMEOUT_SECONDS,
    ServerUnavailable,
    StillRunning,
    refused,
    timeout_session,
    unreachable,
)

TOKEN_ENV = "KF_PIPELINES_TOKEN"
TOKEN_HINT = "Pass a bearer token with --token or KF_PIPELINES_TOKEN (e.g. from your identity provider)."
HEALTHZ_PATH = "apis/v2beta1/healthz"
FINISHED = {"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"}


def preflight(host: str, token: str | None, verify: bool | str) -> None:
    """One healthz call with a deadline, so that a wrong URL or token fails at once and clearly.
    (kfp.Client retries healthz five times, five seconds apart, on an error answer.)"""
    import requests

    if not host:
        raise ParameterError("--target kfp needs --host (or KF_PIPELINES_ENDPOINT), the KFP API URL "
                             "(e.g. https://kfp.example).")
    if not host.startswith(("http://", "https://")):
        raise ParameterError(f"--host {host!r} needs a scheme: https://kfp.example or http://127.0.0.1:8888.")
    headers = {"Authorization": token if token.startswith("Bearer ") else f"Bearer {token}"} if token else {}
    url = host.rstrip("/") + "/" + HEALTHZ_PATH
    try:
        response = timeout_session(verify).get(url, headers=headers)
    except requests.exceptions.RequestException as exc:
        raise unreachable("KFP API server", host, exc) from None
    if not response.ok:
        raise refused("KFP API server", host, response.status_code, _message(response.text), TOKEN_HINT, None)


def _message(body) -> str:
    import json

    try:
        document = json.loads(body)
        return document.get("message") or document.get("error") or str(body)
    except (ValueError, AttributeError, TypeError):
        return str(body)


def _call(host: str, namespace: str | None, action: Callable):
    """Run one kfp.Client call; turn its exceptions into SubmitError."""
    import urllib3
    from kfp_server_api.exceptions import ApiException

    try:
        return action()
    except ApiException as exc:
        raise refused("KFP API server", host, exc.status, _message(exc.body), TOKEN_HINT, namespace) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ServerUnavailable(f"cannot reach the KFP API server at {host}: {exc}.") from None


def typed_arguments(pipeline_spec: dict, params: dict[str, str]) -> dict:
    """`--param NAME=VALUE` strings as the pipeline's declared types (the API checks types)."""
    from portway.compile.argo.values import parse_parameter

    declared = pipeline_spec["root"].get("inputDefinitions", {}).get("parameters", {})
    arguments = {}
    for name, raw in params.items():
        if name not in declared:
            raise ParameterError(f"--param {name} is not a parameter of {pipeline_spec['pipelineInfo']['name']}; "
                                 f"it takes: {', '.join(sorted(declared))}.")
        arguments[name] = parse_parameter(name, declared[name]["parameterType"], raw)
    return arguments


def submit_kfp(package_text: str, pipeline_spec: dict, host: str, params: dict[str, str], token: str | None = None,
               verify: bool | str = True, namespace: str | None = None, experiment: str = "portway",
               run_name: str | None = None, schedule: str | None = None, service_account: str | None = None,
               watch: bool = False, poll_seconds: float = 5.0, timeout_seconds: float | None = None,
               echo: Callable[[str], None] = print) -> dict:
    """Create a run (or, with `schedule`, a recurring run) of the compiled package on KFP."""
    token = token or os.environ.get(TOKEN_ENV) or None
    arguments = typed_arguments(pipeline_spec, params)
    preflight(host, token, verify)
    name = run_name or pipeline_spec["pipelineInfo"]["name"]
    with tempfile.TemporaryDirectory(prefix="portway-submit-") as tmp:
        package = Path(tmp, "pipeline.yaml")
        package.write_text(package_text)
        with quiet_kfp():
            client = connect(host, token, verify, namespace, checked=True)
            if schedule:
                experiment_id = _call(host, namespace, lambda: client.create_experiment(
                    experiment, namespace=namespace).experiment_id)
                recurring = _call(host, namespace, lambda: client.create_recurring_run(
                    experiment_id=experiment_id, job_name=name, cron_expression=_kfp_cron(schedule),
                    pipeline_package_path=str(package), params=arguments, service_account=service_account,
                    enable_caching=None))
            else:
                result = _call(host, namespace, lambda: client.create_run_from_pipeline_package(
                    str(package), arguments=arguments, run_name=name, experiment_name=experiment,
                    namespace=namespace, service_account=service_account))
    if schedule:
        echo(f"created recurring run {recurring.recurring_run_id} ({schedule}) on {host}")
        return {"recurring_run_id": recurring.recurring_run_id, "state": None}
    echo(f"created run {result.run_id} on {host}")
    state = None
    if watch:
        state = watch_run(client, host, namespace, result.run_id, poll_seconds, timeout_seconds, echo)
    return {"run_id": result.run_id, "state": state}


@contextlib.contextmanager
def quiet_kfp():
    """kfp.Client prints and warns about things that are not the user's concern."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", FutureWarning)  # "This client only works with KFP v2.0.0-beta.2 and later"
        logging.getLogger().setLevel(logging.WARNING)
        yield


def connect(host: str | None, token: str | None, verify: bool | str, namespace: str | None = None,
            checked: bool = False):
    """A kfp.Client with a deadline on every call; one healthz first (unless `checked`) so that a wrong
    URL or token fails at once and clearly."""
    from kfp import Client

    token = token or os.environ.get(TOKEN_ENV) or None
    if not checked:
        preflight(host, token, verify)
    with quiet_kfp():
        client = _call(host, namespace, lambda: Client(
            host=host.rstrip("/"), existing_token=token, namespace=namespace or "kubeflow",
            verify_ssl=verify if isinstance(verify, bool) else None, ssl_ca_cert=None if isinstance(verify, bool)
            else verify))
    _set_timeout(client)
    return client


def call(host: str, namespace: str | None, action: Callable):
    """One kfp.Client call, its exceptions turned into one-line errors (public for `portway runs`)."""
    return _call(host, namespace, action)


def _set_timeout(client) -> None:
    """kfp.Client passes no timeout to urllib3; give its connection pools one (new pools pick it up)."""
    pool_manager = client._run_api.api_client.rest_client.pool_manager
    pool_manager.connection_pool_kw["timeout"] = REQUEST_TIMEOUT_SECONDS
    pool_manager.clear()


def _kfp_cron(schedule: str) -> str:
    """KFP's cron has a seconds field first (robfig/cron with seconds); Argo's and crontab's do not."""
    fields = schedule.split()
    if len(fields) == 5:
        return "0 " + schedule
    if len(fields) == 6:
        return schedule
    raise ParameterError(f'--schedule {schedule!r} is not a cron expression such as "0 3 * * *".')


def watch_run(client, host: str, namespace: str | None, run_id: str, poll_seconds: float,
              timeout_seconds: float | None, echo: Callable[[str], None]) -> str:
    started = time.monotonic()
    last = None
    while True:
        run = _call(host, namespace, lambda: client.get_run(run_id))
        state = str(run.state or "PENDING")
        if state != last:
            echo(f"  run {run_id}: {state}")
            last = state
        if state in FINISHED:
            if state != "SUCCEEDED":
                message = getattr(run.error, "message", None) if run.error else None
                raise PipelineFailed(f"KFP run {run_id} {state}: {message or 'no message'} (see the KFP UI at {host}).")
            return state
        if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
            raise StillRunning(f"KFP run {run_id} is still {state} after {timeout_seconds:.0f}s (--timeout); it keeps "
                              "running on the cluster.")
        time.sleep(poll_seconds)
