"""The UI's pure parts: N-version comparison (registry views), chart geometry, identity, CSRF
tokens, the bind rule and $PORTWAY_REGISTRY."""

from __future__ import annotations

import pytest

from portway.cli import main
from portway.registry.views import changed_parameters, compare_metrics, compare_table
from portway.ui import csrf
from portway.ui.chart import metric_chart
from portway.ui.identity import reviewer
from portway.ui.server import is_loopback


def record(version, auc, log_loss, status="PendingManualApproval", **parameters):
    return {"group": "churn", "version": version, "approval_status": status,
            "metrics": {"auc": auc, "log_loss": log_loss}, "lineage": {"parameters": parameters}}


def test_compare_metrics_over_three_versions_knows_which_way_is_better():
    rows = {r["metric"]: r for r in compare_metrics([record(1, 0.80, 0.50), record(2, 0.85, 0.40),
                                                     record(3, 0.83, 0.45)])}
    assert rows["auc"]["best"] == 1 and rows["log_loss"]["best"] == 1  # lower log loss is better
    assert rows["auc"]["deltas"][0] is None
    assert [round(d, 4) for d in rows["auc"]["deltas"][1:]] == [0.05, 0.03]
    assert compare_metrics([record(1, 0.8, 0.5), record(2, 0.8, 0.5)])[0]["best"] is None


def test_changed_parameters_and_the_cli_table_use_the_same_rows():
    a, b = record(1, 0.80, 0.5, max_depth=6, eta=0.1), record(2, 0.85, 0.4, max_depth=4, eta=0.1, seed=7)
    assert changed_parameters([a, b]) == [("max_depth", [6, 4]), ("seed", [None, 7])]
    table = compare_table(a, b)
    lines = {line.split()[0]: line.split()[1:] for line in table.splitlines() if line.strip()}
    assert lines["auc"] == ["0.8000", "0.8500", "+0.0500", "churn:2"]
    assert lines["log_loss"] == ["0.5000", "0.4000", "-0.1000", "churn:2"]
    assert lines["max_depth"] == ["6", "4"] and lines["seed"] == ["-", "7"]


def test_chart_marks_the_champion_and_skips_versions_without_the_metric():
    records = [record(1, 0.80, 0.5, "Approved"), record(2, 0.85, 0.4), {"group": "churn", "version": 3, "metrics": {}}]
    chart = metric_chart(records, "auc", champion_version=1)
    assert [p["version"] for p in chart["points"]] == [1, 2]
    assert [p["champion"] for p in chart["points"]] == [True, False]
    # Higher values sit higher (smaller y) inside the plot area.
    assert chart["top"] <= chart["points"][1]["y"] < chart["points"][0]["y"] <= chart["bottom"]
    assert metric_chart([{"group": "churn", "version": 1, "metrics": {}}], "auc", None) is None


def test_identity_from_proxy_headers_only_when_trusted():
    headers = {"x-forwarded-user": "alice", "x-forwarded-email": "alice@example.com"}
    assert reviewer(headers, False, "laptop-user") == "laptop-user"
    assert reviewer(headers, True, "laptop-user") == "alice@example.com"
    assert reviewer({"x-forwarded-user": "bob"}, True, "laptop-user") == "bob"
    assert reviewer({"x-forwarded-user": "  "}, True, "laptop-user") is None
    assert reviewer({"x-forwarded-user": "eve\x00"}, True, "laptop-user") is None
    assert reviewer({}, True, "laptop-user") is None


def test_csrf_tokens_are_bound_to_the_session_and_the_secret():
    secret, session = b"s" * 32, csrf.new_session_id()
    token = csrf.token_for(secret, session)
    assert csrf.token_is_valid(secret, session, token)
    assert not csrf.token_is_valid(secret, csrf.new_session_id(), token)
    assert not csrf.token_is_valid(b"t" * 32, session, token)
    assert not csrf.token_is_valid(secret, None, token) and not csrf.token_is_valid(secret, session, "")


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                                ("0.0.0.0", False), ("10.0.0.5", False), ("example.com", False)])
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_the_registry_comes_from_portway_registry_like_models(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PORTWAY_REGISTRY", str(tmp_path / "no-such-registry"))
    assert main(["ui", "--port", "1"]) == 2
    assert f"No registry at {tmp_path / 'no-such-registry'}" in capsys.readouterr().err
