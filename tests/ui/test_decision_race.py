"""Exactly one winner, always: 8 identical approvals (same user, same reason, same millisecond,
separate processes) of one version, many rounds, on a filesystem registry and on S3 (moto).

Each approver is a forked process running the real CLI (`portway models approve`). Two things
are pinned so every round is the worst case the issue describes: every process reads the
still-Pending record before any of them writes (a cross-process barrier on the first read), and
the clock returns one timestamp, so the history entries differ in nothing but their request id.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os

import pytest

from portway.registry import APPROVED, PENDING, ModelRegistry

APPROVERS = 8
# Rounds per backend; each round is a fresh version and 8 fresh approvals (S3 rounds cost more).
ROUNDS = {"local": 10, "s3": 6}
SAME_MILLISECOND = "2026-01-01T12:00:00.000Z"
_barrier = None


def _init(barrier):
    global _barrier
    _barrier = barrier


def _approve(args) -> tuple[int, str, str]:
    """One approver (runs in a worker process): the CLI, with the read barrier and a frozen clock."""
    root, version, env = args
    os.environ.update(env)
    import portway.registry as registry_module
    from portway.cli import main

    real_get = registry_module.ModelRegistry.get_with_etag
    state = {"first": True}

    def get_then_wait(self, group, number):
        found = real_get(self, group, number)
        if state["first"]:
            state["first"] = False
            _barrier.wait(timeout=60)
        return found

    registry_module.ModelRegistry.get_with_etag = get_then_wait
    registry_module.now_iso = lambda: SAME_MILLISECOND
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["models", "approve", f"churn:{version}", "--reason", "looks good", "--registry", root])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def approver_pool():
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(APPROVERS)
    with context.Pool(APPROVERS, initializer=_init, initargs=(barrier,)) as pool:
        yield pool


@pytest.fixture(params=["local", "s3"])
def race_root(request, tmp_path):
    if request.param == "s3":
        return "s3", f"s3://{request.getfixturevalue('s3_bucket')}/registry", {
            k: os.environ[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                       "AWS_DEFAULT_REGION")}
    (tmp_path / "registry").mkdir()
    return "local", str(tmp_path / "registry"), {}


def test_identical_approvals_have_exactly_one_winner(race_root, approver_pool, tmp_path):
    backend, root, env = race_root
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model.json").write_text("{}")
    registry = ModelRegistry(root)
    env = {**env, "PORTWAY_USER": "same-reviewer"}
    for round_number in range(1, ROUNDS[backend] + 1):
        version = registry.register("churn", model_dir, {"auc": 0.8}, {"data_sha256": "sha256:abc"})["version"]
        outcomes = approver_pool.map(_approve, [(root, version, env)] * APPROVERS)
        winners = [out for code, out, _ in outcomes if code == 0]
        losers = [err for code, _, err in outcomes if code != 0]
        assert len(winners) == 1, f"round {round_number}: {len(winners)} processes were told they won"
        assert f"churn:{version}: {PENDING} -> {APPROVED} by same-reviewer at {SAME_MILLISECOND}" in winners[0]
        assert [code for code, _, _ in outcomes].count(3) == APPROVERS - 1
        for message in losers:
            assert "Another decision won the race" in message
            assert f"already Approved (by same-reviewer at {SAME_MILLISECOND}: 'looks good')" in message
        record = registry.get("churn", version)
        assert [h["status"] for h in record["history"]] == [PENDING, APPROVED]
        events = [e for e in registry.events("churn") if e["version"] == version]
        assert len(events) == 1 and events[0]["request_id"] == record["history"][-1]["request_id"]
