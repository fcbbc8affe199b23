"""The registry on a local filesystem: versions, records, concurrency."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from portway.errors import ParameterError, RegistryError
from portway.registry import PENDING, ModelRegistry


def register(registry, trained, group="churn", status=PENDING):
    return registry.register(group, trained["model_dir"], trained["evaluation"]["metrics"],
                             {"data_uri": "x", "data_sha256": "sha256:abc"}, status,
                             evaluation_path=trained["evaluation_path"])


def test_versions_are_numbered_and_records_complete(tmp_path, trained):
    registry = ModelRegistry(str(tmp_path / "reg"))
    first = register(registry, trained)
    second = register(registry, trained)
    assert (first["version"], second["version"]) == (1, 2)
    assert registry.versions("churn") == [1, 2]
    record = registry.get("churn", 2)
    assert record["approval_status"] == PENDING and record["history"][0]["status"] == PENDING
    assert Path(record["artifact_uri"], "model.json").is_file()
    assert Path(record["artifact_uri"], "evaluation.json").is_file()
    assert record["metrics"]["auc"] == trained["evaluation"]["metrics"]["auc"]


def test_parallel_registrations_lose_and_duplicate_nothing(tmp_path, trained):
    registry = ModelRegistry(str(tmp_path / "reg"))
    with ThreadPoolExecutor(16) as pool:
        records = list(pool.map(lambda _: register(ModelRegistry(str(tmp_path / "reg")), trained), range(16)))
    assert sorted(r["version"] for r in records) == list(range(1, 17))
    assert registry.versions("churn") == list(range(1, 17))
    assert len({r["artifact_uri"] for r in records}) == 16


@pytest.mark.parametrize("group", ["../escape", "a/b", "", "x" * 64, "bad\nname", "/abs"])
def test_unsafe_group_names_are_refused_and_nothing_written(tmp_path, trained, group):
    registry = ModelRegistry(str(tmp_path / "reg"))
    with pytest.raises(ParameterError):
        register(registry, trained, group=group)
    assert not (tmp_path / "reg").exists() or registry.store.list("") == []


def test_bad_status_is_refused(tmp_path, trained):
    with pytest.raises(ParameterError, match="approval_status 'Maybe'"):
        register(ModelRegistry(str(tmp_path / "reg")), trained, status="Maybe")


def test_missing_version_and_corrupt_record(tmp_path, trained):
    registry = ModelRegistry(str(tmp_path / "reg"))
    register(registry, trained)
    with pytest.raises(RegistryError, match="churn:7 does not exist"):
        registry.get("churn", 7)
    path = tmp_path / "reg" / "groups" / "churn" / "versions" / "00000001.json"
    path.write_text(json.dumps({"version": 1})[:-3])
    with pytest.raises(RegistryError, match="corrupt"):
        registry.get("churn", 1)


def test_resolve_latest_approved_and_skip_corrupt(tmp_path, trained):
    from portway.registry import APPROVED

    registry = ModelRegistry(str(tmp_path / "reg"))
    register(registry, trained, status=APPROVED)
    register(registry, trained, status=APPROVED)
    register(registry, trained)
    assert registry.resolve("churn")["version"] == 3
    assert registry.resolve("churn:approved")["version"] == 2
    assert registry.resolve("churn:1")["version"] == 1
    (tmp_path / "reg/groups/churn/versions/00000002.json").write_text("{not json")
    with pytest.warns(UserWarning, match="00000002.json is corrupt"):
        assert registry.resolve("churn:approved")["version"] == 1
    records, problems = registry.records("churn")
    assert [r["version"] for r in records] == [1, 3] and len(problems) == 1
    with pytest.raises(ParameterError, match="not understood"):
        registry.resolve("churn:newest")
