"""Runs on Kubeflow Pipelines (kfp.Client over the v2beta1 API).

Routes (kubeflow/pipelines backend/api/v2beta1/run.proto, as kfp_server_api's RunServiceApi
calls them): GET /apis/v2beta1/runs (ListRuns: runs, total_size, next_page_token),
GET /apis/v2beta1/runs/{run_id}, POST /apis/v2beta1/runs/{run_id}:terminate. The v2beta1 API
serves no logs (the KFP UI reads them from the pods through its own frontend server), so
`logs` says where to find them instead.
"""

from __future__ import annotations

from collections.abc import Callable

from portway.errors import ParameterError
from portway.runs import CANCELED, FAILED, PENDING, RUNNING, SUCCEEDED, UNKNOWN, Run, Step, seconds_between
from portway.submit.kfp import call, connect, watch_run

STATES = {"PENDING": PENDING, "RUNNING": RUNNING, "SUCCEEDED": SUCCEEDED, "SKIPPED": SUCCEEDED, "FAILED": FAILED,
          "CANCELING": RUNNING, "CANCELED": CANCELED, "PAUSED": RUNNING}
NO_TIME = "1970-01-01T00:00:00"  # the API's zero timestamp for "not yet"


class Kfp:
    def __init__(self, host: str | None, namespace: str | None, token: str | None, verify: bool | str):
        self.client = connect(host, token, verify, namespace)
        self.host, self.namespace = host, namespace

    def _call(self, action):
        return call(self.host, self.namespace, action)

    def list_runs(self, limit: int | None = None, pipeline: str | None = None) -> list[Run]:
        response = self._call(lambda: self.client.list_runs(page_size=limit or 50, sort_by="created_at desc",
                                                             namespace=self.namespace))
        runs = [to_run(r.to_dict(), self.host) for r in (response.runs or [])]
        return [r for r in runs if not pipeline or r.pipeline == pipeline]

    def show_run(self, run_id: str) -> Run:
        return to_run(self._call(lambda: self.client.get_run(run_id)).to_dict(), self.host)

    def logs(self, run_id: str, follow: bool = False):
        run = self.show_run(run_id)  # a wrong id or token still fails as such
        raise ParameterError(
            f"the KFP API serves no logs; read run {run_id}'s step logs in the KFP UI ({run.location}) or with "
            f"kubectl: `kubectl logs -n {self.namespace or 'kubeflow'} -l pipeline/runid={run_id} -c main` "
            f"(run state: {run.native_status}).")

    def watch(self, run_id: str, poll_seconds: float, timeout_seconds: float | None,
              echo: Callable[[str], None]) -> Run:
        watch_run(self.client, self.host, self.namespace, run_id, poll_seconds, timeout_seconds, echo)
        return self.show_run(run_id)

    def stop(self, run_id: str, echo: Callable[[str], None]) -> Run:
        current = self.show_run(run_id)
        if current.status in (SUCCEEDED, FAILED, CANCELED):
            echo(f"KFP run {run_id} already ended: {current.native_status}; nothing to stop.")
            return current
        self._call(lambda: self.client.terminate_run(run_id))
        echo(f"terminate requested for KFP run {run_id} on {self.host}")
        return self.show_run(run_id)


def _time(value) -> str:
    text = value.isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else str(value or "")
    return "" if not text or text.startswith(NO_TIME) else text


def to_run(run: dict, host: str) -> Run:
    state = str(run.get("state") or "PENDING")
    started, finished = _time(run.get("created_at")), _time(run.get("finished_at"))
    tasks = ((run.get("run_details") or {}).get("task_details") or [])
    steps = [Step(name=t.get("display_name") or t.get("task_id", "?"),
                  status=STATES.get(str(t.get("state")), str(t.get("state") or "?")),
                  seconds=seconds_between(_time(t.get("start_time")), _time(t.get("end_time"))),
                  message=((t.get("error") or {}).get("message") or ""))
             for t in tasks if t.get("display_name") not in (None, "", "root", "root-driver")]
    error = (run.get("error") or {}).get("message") or ""
    return Run(target="kfp", id=run.get("run_id", "?"), status=STATES.get(state, UNKNOWN), native_status=state,
               pipeline=run.get("display_name") or "", started=started, finished=finished,
               seconds=seconds_between(started, finished) if finished else None, message=error,
               location=f"{host.rstrip('/')}/#/runs/details/{run.get('run_id', '?')}", steps=steps)
