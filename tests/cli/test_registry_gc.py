"""A failed registration removes what it uploaded; `portway models gc` finds and deletes what is left (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portway.cli import main
from portway.errors import TransientStorageError
from portway.registry import ModelRegistry


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def artifact_folders(root: Path, group: str = "churn") -> list[str]:
    folder = root / "groups" / group / "artifacts"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def failing(method):
    def fail(*_args, **_kwargs):
        raise TransientStorageError(f"{method}: SlowDown (reached max retries: 5): Please reduce your request rate.")
    return fail


def test_a_registration_whose_record_cannot_be_written_removes_its_files(tmp_path, trained, monkeypatch):
    registry = ModelRegistry(str(tmp_path / "registry"))
    kept = registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {})
    monkeypatch.setattr(registry.store, "put_if_absent", failing("put_if_absent"))
    with pytest.raises(TransientStorageError):
        registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {})
    # only the registered version's folder is left
    assert artifact_folders(tmp_path / "registry") == [kept["artifact_uri"].rstrip("/").rsplit("/", 1)[-1]]


def test_a_failed_upload_removes_the_files_already_uploaded(tmp_path, trained, monkeypatch):
    registry = ModelRegistry(str(tmp_path / "registry"))
    upload = registry.store.upload_file
    calls = []

    def second_upload_fails(path, key):
        calls.append(key)
        if len(calls) == 2:
            raise TransientStorageError(f"{key}: InternalError")
        upload(path, key)

    monkeypatch.setattr(registry.store, "upload_file", second_upload_fails)
    with pytest.raises(TransientStorageError):
        registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {})
    assert artifact_folders(tmp_path / "registry") == [] and len(calls) == 2


def test_gc_lists_then_deletes_what_a_failed_cleanup_left(tmp_path, trained, monkeypatch, capsys):
    root = tmp_path / "registry"
    monkeypatch.setenv("PORTWAY_REGISTRY", str(root))
    registry = ModelRegistry(str(root))
    kept = registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {})
    broken = ModelRegistry(str(root))
    monkeypatch.setattr(broken.store, "put_if_absent", failing("put_if_absent"))
    monkeypatch.setattr(broken.store, "delete", failing("delete"))  # the store is down: cleanup cannot help
    with pytest.raises(TransientStorageError) as failure:
        broken.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {})
    assert "SlowDown" in str(failure.value) and "left 2 uploaded file(s) under" in str(failure.value)
    assert "`portway models gc --delete` removes them" in str(failure.value)
    orphan = next(name for name in artifact_folders(root) if name not in kept["artifact_uri"])

    # young folders are left alone: a registration in progress has not written its record yet
    code, out, _ = run(capsys, "models", "gc")
    assert code == 0 and out.startswith("0 unreferenced artifact folder(s)")
    code, out, _ = run(capsys, "models", "gc", "--min-age", "0")
    assert code == 0 and f"would delete {root}/groups/churn/artifacts/{orphan}/" in out
    assert "1 unreferenced artifact folder(s)" in out and "rerun with --delete" in out
    assert orphan in artifact_folders(root)  # a dry run deletes nothing
    code, out, _ = run(capsys, "models", "gc", "--min-age", "0", "--delete", "--json")
    document = json.loads(out)
    assert code == 0 and document["deleted"] is True and document["not_deleted"] == []
    assert [(o["group"], o["artifact_id"]) for o in document["unreferenced"]] == [("churn", orphan)]
    assert sorted(document["unreferenced"][0]["files"]) == sorted(kept["files"])
    assert artifact_folders(root) == [kept["artifact_uri"].rstrip("/").rsplit("/", 1)[-1]]
    assert registry.download_artifacts(registry.get("churn", 1), tmp_path / "copy").joinpath("model.json").is_file()


def test_gc_skips_a_group_with_an_unreadable_record(tmp_path, trained, monkeypatch, capsys):
    root = tmp_path / "registry"
    monkeypatch.setenv("PORTWAY_REGISTRY", str(root))
    registry = ModelRegistry(str(root))
    for _ in range(2):
        registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {})
    Path(registry.store.uri(registry.version_key("churn", 2))).write_text('{"version": 2, "gro')
    code, out, err = run(capsys, "models", "gc", "--min-age", "0", "--delete")
    assert code == 0 and "0 unreferenced" in out
    assert "group 'churn' skipped: 1 version record(s) cannot be read" in err
    assert len(artifact_folders(root)) == 2


def test_on_s3_a_record_write_that_keeps_failing_leaves_nothing_behind(s3_server, tmp_path, trained, monkeypatch,
                                                                       capsys):
    """The issue's case: S3 kept answering 503 to the version record; the folder stayed, unreferenced."""
    from faults.conftest import new_bucket, point_aws_at
    from faults.s3_fault_proxy import FaultPlan, S3FaultProxy

    bucket = new_bucket(s3_server)
    monkeypatch.setenv("PORTWAY_S3_MAX_ATTEMPTS", "2")
    with S3FaultProxy(s3_server, FaultPlan()) as proxy:
        point_aws_at(monkeypatch, proxy.url)
        registry = ModelRegistry(f"s3://{bucket}/registry")
        kept = registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {})
        proxy.set_plan(FaultPlan(error_share=1.0, error_codes=("SlowDown",), max_faults_in_a_row=None,
                                 path_prefix=f"/{bucket}/registry/groups/churn/versions/"))
        with pytest.raises(TransientStorageError) as failure:
            registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {})
        assert failure.value.exit_code == 1 and "SlowDown" in str(failure.value)
        proxy.set_plan(FaultPlan())
        keys = registry.store.list("groups/churn/artifacts/")
        assert {k.split("/")[3] for k in keys} == {kept["artifact_uri"].rstrip("/").rsplit("/", 1)[-1]}
        # gc on S3 sees nothing to do, and lists through the same interface
        code, out, _ = run(capsys, "models", "gc", "--min-age", "0", "--registry", f"s3://{bucket}/registry")
        assert code == 0 and out.startswith(f"0 unreferenced artifact folder(s) in s3://{bucket}/registry")
        # what a killed registration leaves (files uploaded, no record) is found and deleted on S3 too
        registry.store.put("groups/churn/artifacts/0123456789abcdef/model.json", b"{}")
        registry.store.put("groups/churn/artifacts/0123456789abcdef/feature_schema.json", b"{}")
        code, out, _ = run(capsys, "models", "gc", "--min-age", "0", "--registry", f"s3://{bucket}/registry",
                           "--delete", "--json")
        document = json.loads(out)
        assert code == 0 and [o["uri"] for o in document["unreferenced"]] == [
            f"s3://{bucket}/registry/groups/churn/artifacts/0123456789abcdef/"]
        assert document["unreferenced"][0]["files"] == ["feature_schema.json", "model.json"]
        assert registry.store.list("groups/churn/artifacts/0123456789abcdef/") == []
        assert registry.store.list(f"groups/churn/artifacts/{kept['artifact_uri'].rstrip('/').rsplit('/', 1)[-1]}/")
