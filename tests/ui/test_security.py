"""Security of `portway ui`: CSRF, escaping, proxy headers, corrupt entries, headers, binding."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from selenium.webdriver.common.by import By

from portway.cli import main
from portway.registry import APPROVED, PENDING, REJECTED

from .conftest import REVIEWER, SCRIPT_DESCRIPTION, form_session
from .test_browser import table_rows, wait_for


@pytest.fixture(scope="module")
def attacker_site(ui_server):
    """Another origin serving a form that posts an approval to the UI, as a malicious page would."""
    page = (f'<!doctype html><form method="post" action="{ui_server}/groups/churn/versions/5/decision">'
            '<input name="decision" value="approve"><input name="reason" value="free money">'
            '<button id="go" type="submit">win a prize</button></form>').encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()


def test_a_cross_site_post_without_the_token_is_refused(browser, ui_server, attacker_site, registry):
    browser.get(ui_server + "/groups/churn/versions/5")  # the victim has a session with the UI
    browser.get(attacker_site)
    browser.find_element(By.ID, "go").click()
    assert "security token is missing or does not match" in wait_for(browser, "error").text
    assert registry.get("churn", 5)["approval_status"] == PENDING

    url = f"{ui_server}/groups/churn/versions/5/decision"
    form = {"decision": "approve", "reason": "no token"}
    assert requests.post(url, data=form, timeout=10).status_code == 403
    session, token = form_session(ui_server, "/groups/churn/versions/5")
    assert session.post(url, data={**form, "csrf_token": "0" * 64}, timeout=10).status_code == 403
    _, other_token = form_session(ui_server, "/groups/churn/versions/5")
    assert session.post(url, data={**form, "csrf_token": other_token}, timeout=10).status_code == 403
    assert registry.get("churn", 5)["approval_status"] == PENDING
    assert len(registry.get("churn", 5)["history"]) == 1


def test_script_in_a_description_or_reason_renders_as_text(browser, ui_server, registry):
    reason = "<script>document.title='pwned'</script> & <img src=x onerror=alert(1)>"
    session, token = form_session(ui_server, "/groups/churn/versions/2")
    answer = session.post(f"{ui_server}/groups/churn/versions/2/decision",
                          data={"decision": "reject", "reason": reason, "csrf_token": token}, timeout=10)
    assert answer.status_code == 200 and registry.get("churn", 2)["approval_status"] == REJECTED
    html = answer.text
    assert "<script>document.title" not in html and "<img src=x" not in html
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html

    browser.get(ui_server + "/groups/churn/versions/2")
    assert browser.title == "churn:2"
    assert browser.find_element(By.ID, "description").text == SCRIPT_DESCRIPTION
    assert table_rows(browser, "history")[-1][4] == " ".join(reason.split())
    assert not browser.find_elements(By.CSS_SELECTOR, "main script, main img, #description b")


def test_proxy_headers_are_ignored_unless_trusted(ui_server, trusting_ui_server, webhook_receiver, registry):
    spoofed = {"X-Forwarded-User": "mallory", "X-Forwarded-Email": "mallory@example.com"}
    session, token = form_session(ui_server, "/groups/churn/versions/7")
    answer = session.post(f"{ui_server}/groups/churn/versions/7/decision", headers=spoofed,
                          data={"decision": "approve", "reason": "spoof attempt", "csrf_token": token}, timeout=10)
    assert answer.status_code == 200
    assert registry.get("churn", 7)["history"][-1]["by"] == REVIEWER

    url = f"{trusting_ui_server}/groups/churn/versions/8/decision"
    session, token = form_session(trusting_ui_server, "/groups/churn/versions/8")
    form = {"decision": "approve", "reason": "signed in through the proxy", "csrf_token": token}
    refused = session.post(url, data=form, timeout=10)
    assert refused.status_code == 401 and "No identity came with this request" in refused.text
    assert registry.get("churn", 8)["approval_status"] == PENDING
    accepted = session.post(url, data=form, headers={"X-Forwarded-User": "alice",
                                                     "X-Forwarded-Email": "alice@example.com"}, timeout=10)
    assert accepted.status_code == 200
    record = registry.get("churn", 8)
    assert record["approval_status"] == APPROVED and record["history"][-1]["by"] == "alice@example.com"
    event = [e for e in registry.events("churn") if e["version"] == 8][-1]
    assert event["by"] == "alice@example.com"
    # The same webhook delivery as the CLI's: the event document itself.
    hooked = [e for e in webhook_receiver[1] if e["version"] == 8]
    assert hooked == [{k: v for k, v in event.items() if k != "event_uri"}]


def test_a_corrupt_entry_shows_as_such_and_the_pages_still_work(ui_server):
    group = requests.get(f"{ui_server}/groups/churn", timeout=10)
    assert group.status_code == 200
    assert "00000006.json is corrupt" in group.text and ">9</a>" in group.text
    version = requests.get(f"{ui_server}/groups/churn/versions/6", timeout=10)
    assert version.status_code == 200 and 'class="status corrupt"' in version.text
    assert "is corrupt" in version.text and "fix or remove it by hand" in version.text
    compare = requests.get(f"{ui_server}/compare", params={"v": ["churn:6", "churn:1"]}, timeout=10)
    assert compare.status_code == 409 and "is corrupt" in compare.text


def test_security_headers_and_the_sandboxed_report(ui_server):
    page = requests.get(f"{ui_server}/groups/churn/versions/1", timeout=10)
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert '<iframe id="report"' in page.text and 'sandbox=""' in page.text
    assert "httponly" in page.headers["Set-Cookie"].lower() and "samesite=strict" in page.headers["Set-Cookie"].lower()
    report = requests.get(f"{ui_server}/groups/churn/versions/1/report.html", timeout=10)
    assert report.status_code == 200 and "Evaluation report: churn" in report.text
    report_csp = report.headers["Content-Security-Policy"]
    assert "default-src 'none'" in report_csp and "sandbox" in report_csp and "script-src" not in report_csp


def test_binding_beyond_loopback_needs_an_auth_proxy(capsys, tmp_path):
    (tmp_path / "registry").mkdir()
    assert main(["ui", "--host", "0.0.0.0", "--registry", str(tmp_path / "registry")]) == 2
    assert "--trust-proxy-headers" in capsys.readouterr().err
