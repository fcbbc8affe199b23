"""A corrupt registry entry (truncated or hand-edited), on a filesystem and on S3: listing still
works and names it, `:approved` skips it with a warning, and nothing else is affected."""

from __future__ import annotations

import json

import pytest

from portway.cli import main
from portway.registry import ModelRegistry

CORRUPTIONS = {
    "truncated": b'{"schema": "portway.dev/model-version/v1", "group": "churn", "version": 3, "appro',
    "hand-edited-version": json.dumps({"group": "churn", "version": 9, "approval_status": "Approved"}).encode(),
    "not-an-object": b'["churn", 3]',
    "not-text": b"\xff\xfe\x00\x01",
}


@pytest.fixture(params=["filesystem", "s3"])
def registry_root(request, tmp_path) -> str:
    if request.param == "s3":
        return f"s3://{request.getfixturevalue('s3_bucket')}/registry"
    (tmp_path / "registry").mkdir()
    return str(tmp_path / "registry")


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_a_corrupt_entry_is_named_skipped_and_harms_nothing_else(registry_root, corruption, trained, capsys,
                                                                  monkeypatch):
    monkeypatch.setenv("PORTWAY_REGISTRY", registry_root)
    registry = ModelRegistry(registry_root)
    for _ in range(3):
        registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {"data_uri": "x"},
                          evaluation_path=trained["evaluation_path"])
    registry.approve("churn", 1, "baseline")
    registry.approve("churn", 3, "better")
    key = registry.version_key("churn", 3)
    registry.store.put(key, CORRUPTIONS[corruption])  # the newest approved version is now unreadable
    capsys.readouterr()

    assert main(["models", "list", "churn"]) == 0
    out, err = capsys.readouterr()
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["1", "2"]
    assert f"{key.rsplit('/', 1)[-1]} is corrupt" in err and registry.store.uri(key) in err, err

    with pytest.warns(UserWarning, match=r"skipping a registry entry: .*00000003\.json is corrupt"):
        assert main(["models", "show", "churn:approved", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 1

    # Everything else works as before; the bad entry is left for a human to fix.
    assert registry.get("churn", 2)["version"] == 2
    assert registry.resolve("churn:1")["approval_status"] == "Approved"
    fresh = registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {"data_uri": "x"},
                              evaluation_path=trained["evaluation_path"])
    assert fresh["version"] == 4
    assert registry.store.get(key).data == CORRUPTIONS[corruption]
