"""A registry on the S3 server on loopback (moto), `portway ui` serving it as a real process,
and one headless Chromium for the session.

Versions of group `churn`, each with a job (tests own their version so they run in any order):
  1 Approved (the champion)       2 description with <script>    3 approved in the browser
  4 two browsers race on it        5 stays Pending (reason/CSRF)  6 corrupt record
  7 proxy headers (untrusted)      8 proxy headers (trusted)      9 compare partner of 1
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
import requests
from conftest import TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY, free_port

from portway.devtools.chromium import chromium

REVIEWER = "ui-reviewer"
SCRIPT_DESCRIPTION = "<script>document.title='pwned'</script> retrained on <b>new</b> data"
# A report whose script would mark the page if it ever ran (the frame's sandbox and CSP forbid it).
REPORT_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>report</title>
<style>h1 { color: #234; }</style></head>
<body><h1 id="report-title">Evaluation report: churn</h1><p>auc 0.8400 on 400 test rows</p>
<script>document.body.setAttribute('data-script-ran', 'yes'); parent.document.title = 'pwned';</script>
</body></html>"""


def aws_env(endpoint: str) -> dict:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": TEST_AWS_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": TEST_AWS_SECRET_ACCESS_KEY, "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def ui_registry(s3_server, trained, tmp_path_factory) -> dict:
    """The registry's URI and the environment that reaches it."""
    import boto3

    from portway.registry import ModelRegistry

    env = aws_env(s3_server)
    report = tmp_path_factory.mktemp("report") / "report.html"
    report.write_text(REPORT_HTML)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        boto3.client("s3").create_bucket(Bucket="portway-ui")
        root = "s3://portway-ui/registry"
        registry = ModelRegistry(root)
        metrics = trained["evaluation"]["metrics"]
        for version in range(1, 10):
            # Slightly different figures per version, so the chart and compare have something to show.
            registry.register(
                "churn", trained["model_dir"], {**metrics, "auc": round(metrics["auc"] - 0.01 + version * 0.002, 4)},
                {"data_uri": "s3://portway-ui/data/churn.csv", "data_sha256": "sha256:" + "ab" * 32,
                 "parameters": {"max_depth": 6 if version == 1 else 4, "eta": 0.1},
                 "gate": {"passed": True, "summary": "passed: auc>=0.8",
                          "checks": [{"metric": "auc", "rule": "auc>=0.8", "value": metrics["auc"], "bound": 0.8,
                                      "passed": True}]}},
                evaluation_path=trained["evaluation_path"], extra_files={"report.html": report},
                description=SCRIPT_DESCRIPTION if version == 2 else "")
        registry.approve("churn", 1, "the first champion", by="lead")
        registry.store.put(ModelRegistry.version_key("churn", 6), b'{"schema": "portway.dev/model-ver')
    return {"root": root, "env": env}


def _start_ui(root: str, env: dict, log, *extra: str):
    """`portway ui` as a process (its output in `log`, a file: a pipe nobody reads could fill up)."""
    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "portway", "ui", "--registry", root, "--port", str(port), *extra],
            env={**os.environ, **env, "PORTWAY_USER": REVIEWER}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"portway ui exited with {process.returncode}: {log.read_text()}")
        try:
            if requests.get(f"{url}/healthz", timeout=2).ok:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("portway ui did not answer /healthz within 60 s")


@pytest.fixture(scope="session")
def ui_server(ui_registry, tmp_path_factory):
    """`portway ui` as a user starts it on a laptop (local user, proxy headers not trusted)."""
    log = tmp_path_factory.mktemp("ui") / "ui.log"
    process, url = _start_ui(ui_registry["root"], ui_registry["env"], log)
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="session")
def webhook_receiver():
    """An HTTP endpoint on loopback that keeps the JSON bodies POSTed to it."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


@pytest.fixture(scope="session")
def trusting_ui_server(ui_registry, webhook_receiver, tmp_path_factory):
    """`portway ui --trust-proxy-headers --webhook URL`, as it runs behind oauth2-proxy."""
    log = tmp_path_factory.mktemp("ui") / "ui.log"
    process, url = _start_ui(ui_registry["root"], ui_registry["env"], log, "--trust-proxy-headers",
                             "--webhook", webhook_receiver[0])
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="session")
def browser():
    with chromium() as driver:
        yield driver


@pytest.fixture
def registry(ui_registry, monkeypatch):
    """The registry, read in this process (for checking what a page did)."""
    from portway.registry import ModelRegistry

    for key, value in ui_registry["env"].items():
        monkeypatch.setenv(key, value)
    return ModelRegistry(ui_registry["root"])


def form_session(url: str, page: str) -> tuple[requests.Session, str]:
    """A requests session holding the UI's session cookie, and the CSRF token of `page`'s form."""
    session = requests.Session()
    html = session.get(f"{url}{page}", timeout=10).text
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, f"no CSRF token in {page}"
    return session, match.group(1)


