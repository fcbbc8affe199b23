"""Fixtures of the submit/runs tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """No Argo or KFP server settings from the machine running the tests: only what a test sets itself."""
    monkeypatch.setenv("HOME", str(tmp_path))  # kfp.Client reads ~/.config/kfp/context.json
    for name in ("ARGO_SERVER", "ARGO_TOKEN", "ARGO_NAMESPACE", "ARGO_SECURE", "ARGO_BASE_HREF",
                 "ARGO_INSECURE_SKIP_VERIFY", "KF_PIPELINES_ENDPOINT", "KF_PIPELINES_TOKEN"):
        monkeypatch.delenv(name, raising=False)
