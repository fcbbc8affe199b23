"""The approval workflow on both backends: an S3 server on loopback (moto) and a local directory.

Races are real: threads with their own registry (own boto3 client) against one version."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portway.errors import ConcurrencyConflict, ParameterError, RegistryError
from portway.registry import APPROVED, PENDING, REJECTED, ModelRegistry
from portway.registry.events import event_key

APPROVERS = 8


@pytest.fixture(params=["s3", "local"])
def registry_root(request, tmp_path):
    if request.param == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        return f"s3://{bucket}/registry"
    return str(tmp_path / "registry")


def register(root, trained, status=PENDING):
    return ModelRegistry(root).register(
        "churn", trained["model_dir"], trained["evaluation"]["metrics"],
        {"data_uri": "data.csv", "data_sha256": "sha256:abc"}, status, evaluation_path=trained["evaluation_path"])


def event_keys(root, version=None):
    keys = ModelRegistry(root).store.list("events/churn/")
    return [k for k in keys if version is None or k.rsplit("/", 1)[-1].startswith(f"{version:08d}-")]


def race(root, version, count, status=APPROVED, store_wrapper=None):
    """`count` approvers, each with its own registry, deciding at once. Returns (by, result-or-error)."""
    start = threading.Barrier(count)

    def one(i):
        registry = ModelRegistry(root)
        if store_wrapper is not None:
            registry.store = store_wrapper(registry.store)
        start.wait()
        try:
            return f"approver-{i}", registry.transition("churn", version, status, f"reason {i}", by=f"approver-{i}")
        except RegistryError as exc:
            return f"approver-{i}", exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_eight_concurrent_approvers_one_wins_the_others_are_told_who(registry_root, trained):
    register(registry_root, trained)
    outcomes = race(registry_root, 1, APPROVERS)
    winners = [(by, r) for by, r in outcomes if isinstance(r, dict)]
    losers = [(by, r) for by, r in outcomes if isinstance(r, RegistryError)]
    assert len(winners) == 1 and len(losers) == APPROVERS - 1
    winner, result = winners[0]
    for _, error in losers:
        assert f"churn:1 is already Approved (by {winner} at {result['record']['updated_at']}" in str(error)
    record = ModelRegistry(registry_root).get("churn", 1)
    assert record["approval_status"] == APPROVED
    assert [h["status"] for h in record["history"]] == [PENDING, APPROVED]
    assert record["history"][-1]["by"] == winner
    assert event_keys(registry_root, 1) == [event_key("churn", 1, 1, APPROVED)]


class ReadThenWaitStore:
    """Delegates to a real store; every approver's first read of the record waits for the
    others', so all of them decide on the same Pending record and the conditional write
    is what sorts them out."""

    def __init__(self, store, barrier):
        self._store, self._barrier, self._seen = store, barrier, False

    def __getattr__(self, name):
        return getattr(self._store, name)

    def get(self, key):
        stored = self._store.get(key)
        if "/versions/" in key and not self._seen:
            self._seen = True
            self._barrier.wait()
        return stored


def test_approvers_that_all_read_pending_conflict_on_the_conditional_write(registry_root, trained):
    register(registry_root, trained)
    barrier = threading.Barrier(APPROVERS)
    outcomes = race(registry_root, 1, APPROVERS, store_wrapper=lambda store: ReadThenWaitStore(store, barrier))
    winners = [by for by, r in outcomes if isinstance(r, dict)]
    conflicts = [r for _, r in outcomes if isinstance(r, ConcurrencyConflict)]
    assert len(winners) == 1 and len(conflicts) == APPROVERS - 1
    for error in conflicts:
        assert "Another decision won the race" in str(error) and f"by {winners[0]}" in str(error)
        assert error.exit_code == 3
    assert len(ModelRegistry(registry_root).get("churn", 1)["history"]) == 2
    assert len(event_keys(registry_root, 1)) == 1


def test_rejected_versions_never_resolve_as_approved(registry_root, trained):
    for _ in range(4):
        register(registry_root, trained)
    registry = ModelRegistry(registry_root)
    registry.approve("churn", 1, "baseline")
    registry.approve("churn", 2, "better")
    registry.reject("churn", 3, "overfits")
    assert registry.resolve("churn:approved")["version"] == 2
    registry.reject("churn", 2, "revoked: drift found")  # Approved -> Rejected
    assert registry.resolve("churn:approved")["version"] == 1
    assert registry.resolve("churn")["version"] == 4  # latest is unaffected by approvals
    registry.reject("churn", 1, "revoked too")
    with pytest.raises(RegistryError, match="no Approved version"):
        registry.resolve("churn:approved")
    assert [registry.get("churn", v)["approval_status"] for v in (1, 2, 3, 4)] == [REJECTED, REJECTED, REJECTED,
                                                                                  PENDING]


@pytest.mark.parametrize(("first", "then", "message"), [
    (REJECTED, APPROVED, "Rejected -> Approved is not allowed"),
    (APPROVED, APPROVED, "already Approved .*nothing to change"),
    (REJECTED, REJECTED, "already Rejected .*nothing to change"),
    (APPROVED, PENDING, "Approved -> PendingManualApproval is not allowed"),
])
def test_forbidden_transitions_change_nothing(registry_root, trained, first, then, message):
    register(registry_root, trained)
    registry = ModelRegistry(registry_root)
    registry.transition("churn", 1, first, "first decision")
    before, events_before = registry.get("churn", 1), event_keys(registry_root)
    with pytest.raises(RegistryError, match=message):
        registry.transition("churn", 1, then, "second decision")
    assert registry.get("churn", 1) == before
    assert event_keys(registry_root) == events_before


def test_bad_decisions_are_refused_before_anything_is_written(registry_root, trained):
    register(registry_root, trained)
    registry = ModelRegistry(registry_root)
    with pytest.raises(ParameterError, match="reason is required"):
        registry.approve("churn", 1, "   ")
    with pytest.raises(ParameterError, match="approval_status 'Maybe'"):
        registry.transition("churn", 1, "Maybe", "why not")
    with pytest.raises(RegistryError, match="churn:9 does not exist"):
        registry.approve("churn", 9, "no such version")
    with pytest.raises(ParameterError, match="not an http"):
        registry.approve("churn", 1, "ok", webhook="ftp://example/hook")
    assert registry.get("churn", 1)["approval_status"] == PENDING
    assert event_keys(registry_root) == []


def test_one_event_per_transition_with_the_decision_in_it(registry_root, trained):
    register(registry_root, trained)
    register(registry_root, trained, status=APPROVED)  # auto-approved at registration: an event too
    registry = ModelRegistry(registry_root)
    registry.approve("churn", 1, "ship it", by="alice")
    registry.reject("churn", 1, "revoked", by="bob")
    events = registry.events("churn")
    assert [(e["version"], e["sequence"], e.get("from_status"), e["status"], e["by"]) for e in events] == [
        (1, 1, PENDING, APPROVED, "alice"), (1, 2, APPROVED, REJECTED, "bob"), (2, 0, None, APPROVED, events[2]["by"])]
    approved = events[0]
    assert approved["type"] == "portway.model.approved" and approved["reason"] == "ship it"
    assert approved["artifact_uri"] == registry.get("churn", 1)["artifact_uri"]
    assert approved["metrics"]["auc"] == trained["evaluation"]["metrics"]["auc"]
    # Re-emitting is idempotent; a lost event (crash between the two writes) is written once.
    assert registry.emit_missing_events("churn") == []
    lost = event_key("churn", 1, 2, REJECTED)
    if registry_root.startswith("s3://"):
        import boto3

        bucket = registry_root.split("/")[2]
        boto3.client("s3").delete_object(Bucket=bucket, Key=f"registry/{lost}")
    else:
        (registry.store.root / lost).unlink()
    assert registry.emit_missing_events("churn") == [registry.store.uri(lost)]
    assert registry.emit_missing_events("churn") == []
    assert len(registry.events("churn")) == 3


class Hook(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((self.headers["X-Portway-Event"], json.loads(body)))
        self.send_response(Hook.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_server():
    Hook.received, Hook.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_webhook_receives_the_event_and_a_failing_one_does_not_undo_the_decision(tmp_path, trained, webhook_server,
                                                                                  monkeypatch):
    root = str(tmp_path / "registry")
    register(root, trained)
    register(root, trained)
    registry = ModelRegistry(root)
    result = registry.approve("churn", 1, "good", webhook=webhook_server)
    assert result["webhook"] == {"url": webhook_server, "ok": True, "status": 200}
    assert Hook.received == [("portway.model.approved", result["event"])]

    Hook.status = 500
    monkeypatch.setenv("PORTWAY_WEBHOOK_URL", webhook_server)
    result = registry.reject("churn", 1, "revoke")
    assert result["webhook"]["ok"] is False and result["webhook"]["status"] == 500
    assert registry.get("churn", 1)["approval_status"] == REJECTED

    closed = webhook_server.replace("/hook", "").rsplit(":", 1)[0] + ":9/hook"  # port 9 (discard): nothing listens
    result = registry.approve("churn", 2, "good", webhook=closed)
    assert result["webhook"]["ok"] is False and "ConnectionError" in result["webhook"]["error"]
    assert registry.get("churn", 2)["approval_status"] == APPROVED
    assert len(registry.events("churn")) == 3


class LostAnswerStore:
    """Delegates to a real store, but the first conditional write's answer is 'lost': the write
    lands, and the caller hears a failed precondition (what a retried PUT with IfMatch gets)."""

    def __init__(self, store):
        self._store, self._lost = store, False

    def __getattr__(self, name):
        return getattr(self._store, name)

    def put_if_match(self, key, data, etag):
        landed = self._store.put_if_match(key, data, etag)
        if landed and not self._lost:
            self._lost = True
            return False
        return landed


def test_a_decision_whose_answer_was_lost_is_recognised_as_ours(registry_root, trained):
    register(registry_root, trained)
    registry = ModelRegistry(registry_root)
    registry.store = LostAnswerStore(registry.store)
    result = registry.approve("churn", 1, "ship it", by="alice")
    assert registry.store._lost and result["record"]["history"][-1]["by"] == "alice"
    assert [h["status"] for h in ModelRegistry(registry_root).get("churn", 1)["history"]] == [PENDING, APPROVED]
    assert len(event_keys(registry_root, 1)) == 1
