"""The model registry: model package groups, numbered versions, approval status.

Layout under the registry root (a local directory or an s3:// prefix, same layout):

    groups/<group>/artifacts/<artifact-id>/model.json, feature_schema.json, evaluation.json
    groups/<group>/versions/00000001.json     one record per version: the commit point

    events/<group>/00000001-0001-Approved.json  one per approval decision (see events.py)

A version is created by writing its record with an exclusive create (S3 `IfNoneMatch="*"`,
a hard link on a filesystem). Artifacts are uploaded first, under a fresh id, so a record
never points at a missing model; a registration that fails before its record is written
leaves no version behind. Concurrent registrations each take the next free number: none is
lost, none is duplicated.

An approval decision replaces the record only if it is unchanged since it was read (S3
`IfMatch` on the ETag, a lock plus an atomic rename on a filesystem), so of two approvers
racing, one wins and the other is told who did (rules in approval.py).
"""

from __future__ import annotations

import getpass
import json
import os
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path

from portway.errors import ParameterError, PortwayError, RegistryError
from portway.names import validate_name
from portway.objectstore import NotFound, ObjectStore, open_store
from portway.registry.approval import (
    ALLOWED_TRANSITIONS,
    APPROVAL_STATUSES,
    APPROVED,
    PENDING,
    REJECTED,
    check_approval_status,
    check_reason,
    check_transition,
    history_entry,
    is_own_entry,
    new_request_id,
)
from portway.registry.events import build_event, list_events, post_webhook, webhook_url, write_event

__all__ = [
    "ALLOWED_TRANSITIONS", "APPROVAL_STATUSES", "APPROVED", "PENDING", "REJECTED", "ModelRegistry",
    "check_approval_status", "open_registry",
]

RECORD_SCHEMA = "portway.dev/model-version/v1"
# Each attempt is one conditional write; far more than any realistic number of racing writers.
MAX_ALLOCATION_ATTEMPTS = 1000


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def current_user() -> str:
    return os.environ.get("PORTWAY_USER") or getpass.getuser()


class ModelRegistry:
    def __init__(self, root_uri: str, store: ObjectStore | None = None):
        self.store = store or open_store(root_uri)
        self.root_uri = self.store.root_uri

    # -- keys ---------------------------------------------------------------------------
    @staticmethod
    def version_key(group: str, version: int) -> str:
        return f"groups/{group}/versions/{version:08d}.json"

    @staticmethod
    def artifact_prefix(group: str, artifact_id: str) -> str:
        return f"groups/{group}/artifacts/{artifact_id}"

    # -- reading ------------------------------------------------------------------------
    def groups(self) -> list[str]:
        names = {key.split("/")[1] for key in self.store.list("groups/") if key.count("/") >= 3}
        return sorted(names)

    def versions(self, group: str) -> list[int]:
        validate_name(group, "model group")
        numbers = []
        for key in self.store.list(f"groups/{group}/versions/"):
            stem = key.rsplit("/", 1)[-1].removesuffix(".json")
            if stem.isdigit():
                numbers.append(int(stem))
        return sorted(numbers)

    def get(self, group: str, version: int) -> dict:
        record, _ = self.get_with_etag(group, version)
        return record

    def get_with_etag(self, group: str, version: int) -> tuple[dict, str]:
        validate_name(group, "model group")
        key = self.version_key(group, version)
        try:
            stored = self.store.get(key)
        except NotFound:
            raise RegistryError(f"Model {group}:{version} does not exist in the registry at {self.root_uri}.") from None
        try:
            record = json.loads(stored.data)
            if not isinstance(record, dict) or record.get("version") != version:
                raise ValueError("not a version record")
        except (ValueError, UnicodeDecodeError) as exc:
            raise RegistryError(
                f"Registry entry {self.store.uri(key)} is corrupt ({exc}); fix or remove it by hand."
            ) from None
        return record, stored.etag

    def records(self, group: str) -> tuple[list[dict], list[str]]:
        """Every readable version record of `group`, oldest first, and a message per corrupt one.

        A corrupt entry (truncated or hand-edited JSON) is reported, never fatal: the other
        versions stay listable and resolvable."""
        records, problems = [], []
        for version in self.versions(group):
            try:
                records.append(self.get(group, version))
            except RegistryError as exc:
                problems.append(str(exc))
        return records, problems

    def newest_approved(self, group: str) -> dict | None:
        """The newest Approved version of `group` (the champion), or None."""
        records, problems = self.records(group)
        for problem in problems:
            warnings.warn(f"skipping a registry entry: {problem}", stacklevel=2)
        approved = [r for r in records if r.get("approval_status") == APPROVED]
        return approved[-1] if approved else None

    def resolve(self, reference: str) -> dict:
        """`GROUP`, `GROUP:VERSION`, `GROUP:latest` or `GROUP:approved` to a version record."""
        group, _, selector = reference.partition(":")
        validate_name(group, "model group")
        if selector == "approved":
            record = self.newest_approved(group)
            if record is None:
                raise RegistryError(f"Model group {group!r} has no Approved version in {self.root_uri}.")
            return record
        if selector in ("", "latest"):
            versions = self.versions(group)
            if not versions:
                raise RegistryError(f"Model group {group!r} has no versions in {self.root_uri}.")
            return self.get(group, versions[-1])
        if not selector.isdigit():
            raise ParameterError(
                f"Model reference {reference!r} is not understood; expected GROUP, GROUP:VERSION, "
                "GROUP:latest or GROUP:approved."
            )
        return self.get(group, int(selector))

    def artifact_key(self, record: dict, name: str) -> str:
        """The store key of file `name` of a version. Derived from the artifact id, not the
        stored URI, so a registry directory that was moved or mounted elsewhere still works."""
        validate_name(name, "artifact file name")
        artifact_id = record["artifact_uri"].rstrip("/").rsplit("/", 1)[-1]
        validate_name(artifact_id, "artifact id")
        return f"{self.artifact_prefix(record['group'], artifact_id)}/{name}"

    def read_artifact_json(self, record: dict, name: str) -> dict | None:
        """A JSON file of a version (feature_schema.json, evaluation.json), or None if absent."""
        try:
            return json.loads(self.store.get(self.artifact_key(record, name)).data)
        except NotFound:
            return None
        except ValueError as exc:
            raise RegistryError(f"{self.store.uri(self.artifact_key(record, name))} is not valid JSON ({exc}).") from None

    def download_artifacts(self, record: dict, dest_dir: str | os.PathLike) -> Path:
        """Copy every file of a version into `dest_dir` (which is created)."""
        dest = Path(dest_dir)
        dest.mkdir(parents=True, exist_ok=True)
        for name in record.get("files", []):
            try:
                self.store.download_file(self.artifact_key(record, name), dest / name)
            except NotFound:
                raise RegistryError(
                    f"{record['group']}:{record['version']} lists {name} but "
                    f"{self.store.uri(self.artifact_key(record, name))} is missing."
                ) from None
        return dest

    # -- writing ------------------------------------------------------------------------
    def _is_ours(self, key: str, record: dict) -> bool:
        """Whether the record at `key` is the one we just tried to write.

        An exclusive create whose answer was lost (a dropped connection, a 500 after the write)
        is retried by the S3 client and then meets our own object: 412. Taking the next number
        would register the model twice, so the record is read back: our artifact_uri (a fresh
        id per registration) says the first attempt landed."""
        try:
            stored = json.loads(self.store.get(key).data)
        except (NotFound, ValueError, UnicodeDecodeError):
            return False
        return isinstance(stored, dict) and stored.get("artifact_uri") == record["artifact_uri"]

    def register(
        self,
        group: str,
        model_dir: str | os.PathLike,
        metrics: dict,
        lineage: dict,
        approval_status: str = PENDING,
        evaluation_path: str | os.PathLike | None = None,
        extra_files: dict[str, str | os.PathLike] | None = None,
        description: str = "",
    ) -> dict:
        """Upload the model's files and create the next version. Returns the version record."""
        validate_name(group, "model group")
        check_approval_status(approval_status)
        model_dir = Path(model_dir)
        if not (model_dir / "model.json").is_file():
            raise RegistryError(f"{model_dir} holds no model.json; nothing to register.")

        artifact_id = uuid.uuid4().hex[:16]
        prefix = self.artifact_prefix(group, artifact_id)
        # Validated like any name that becomes a key: artifact_key() refuses to read anything else.
        files = {validate_name(p.name, "artifact file name"): p
                 for p in sorted(model_dir.iterdir()) if p.is_file() and not p.name.startswith(".")}
        if evaluation_path is not None:
            files["evaluation.json"] = Path(evaluation_path)
        for name, path in (extra_files or {}).items():
            files[validate_name(name, "artifact file name")] = Path(path)
        uploaded: list[str] = []
        try:
            for name, path in files.items():
                self.store.upload_file(path, f"{prefix}/{name}")
                # only what surely landed: a store that failed the upload is not asked again (gc finds
                # an upload whose answer was lost)
                uploaded.append(f"{prefix}/{name}")
        except BaseException as exc:
            self._remove_unregistered(uploaded, [], exc)
            raise

        user = current_user()
        created = now_iso()
        record = {
            "schema": RECORD_SCHEMA,
            "group": group,
            "version": 0,
            "approval_status": approval_status,
            "created_at": created,
            "created_by": user,
            "description": description,
            "model_format": "xgboost",
            "artifact_uri": self.store.uri(prefix) + "/",
            "files": sorted(files),
            "metrics": metrics,
            "lineage": lineage,
            "history": [{"status": approval_status, "at": created, "by": user, "reason": "registered"}],
        }
        attempted: list[str] = []
        try:
            self._commit_version(group, record, attempted)
        except BaseException as exc:
            self._remove_unregistered(uploaded, attempted, exc)
            raise
        if approval_status != PENDING:
            # Registered already decided (e.g. auto-approved by a pipeline): that is a
            # decision too, and deployment automation hears of it the same way.
            write_event(self.store, build_event(record, 0, self.root_uri))
        return record

    def _commit_version(self, group: str, record: dict, attempted: list[str]) -> None:
        """Write `record` under the next free version number (its "version" is set); each key
        tried is appended to `attempted`."""
        version = (max(self.versions(group), default=0)) + 1
        for _ in range(MAX_ALLOCATION_ATTEMPTS):
            record["version"] = version
            key = self.version_key(group, version)
            attempted.append(key)
            if self.store.put_if_absent(key, json.dumps(record, indent=2).encode()) or self._is_ours(key, record):
                return
            version += 1  # somebody took this number first: try the next
        raise RegistryError(f"Could not allocate a version in {group} after {MAX_ALLOCATION_ATTEMPTS} attempts.")

    def _remove_unregistered(self, keys: list[str], attempted: list[str], failure: BaseException) -> None:
        """After a failed registration, delete the files it uploaded (best effort).

        A record write that was `attempted` may have landed with its answer lost: the files are
        deleted only when none of those keys is listed, or each listed one is somebody else's.
        Whatever stays is named in the failure's message and found by `portway models gc`."""
        import logging

        from portway.registry.gc import remove_uploaded

        if not keys:
            return
        left = keys
        try:
            listed = set(self.store.list(attempted[0].rsplit("/", 1)[0] + "/")) if attempted else set()
            artifact_uri = self.store.uri(keys[0].rsplit("/", 1)[0]) + "/"
            if not any(json.loads(self.store.get(key).data).get("artifact_uri") == artifact_uri
                       for key in attempted if key in listed):
                left = remove_uploaded(self.store, keys)
        except Exception:  # the store is still failing: cannot tell, so leave the files to gc
            pass
        if left:
            note = (f"the failed registration left {len(left)} uploaded file(s) under "
                    f"{self.store.uri(left[0].rsplit('/', 1)[0])}/; `portway models gc --delete` removes them "
                    "once the store answers")
            if isinstance(failure, PortwayError):
                failure.args = (f"{failure} ({note})",)  # the one line the user sees says it
            else:
                logging.getLogger("portway.registry").warning("warning: %s", note)

    def transition(
        self,
        group: str,
        version: int,
        new_status: str,
        reason: str,
        by: str | None = None,
        webhook: str | None = None,
    ) -> dict:
        """Change a version's approval status, append the change to its history, emit the event.

        Returns {"record", "event", "event_uri", "webhook", "request_id"}. Raises RegistryError
        when the rules forbid the change, ConcurrencyConflict when another decision won a race.
        Only the call whose write landed returns: its entry carries this call's request id."""
        reason = check_reason(reason)
        check_approval_status(new_status)
        url = webhook_url(webhook)
        by = by or current_user()
        raced, request_id = False, new_request_id()
        for _ in range(MAX_ALLOCATION_ATTEMPTS):
            record, etag = self.get_with_etag(group, version)
            if raced and is_own_entry((record.get("history") or [{}])[-1], request_id):
                # Our write landed but its answer was lost (a retried PUT then fails IfMatch):
                # the last entry carries this call's request id, so it is ours, not a rival's
                # (a rival's identical-looking entry has its own id).
                updated = record
                break
            check_transition(record, new_status, raced=raced)
            at = now_iso()
            attempted = history_entry(record["approval_status"], new_status, at, by, reason, request_id)
            updated = {**record, "approval_status": new_status, "updated_at": at,
                       "history": [*record.get("history", []), attempted]}
            if self.store.put_if_match(self.version_key(group, version), json.dumps(updated, indent=2).encode(), etag):
                break
            # The record changed since we read it: read it again, and re-check the rule
            # against what is there now (a racing approver may have decided already).
            raced = True
        else:
            raise RegistryError(f"Could not update {group}:{version} after {MAX_ALLOCATION_ATTEMPTS} attempts.")
        seq = len(updated["history"]) - 1
        event = build_event(updated, seq, self.root_uri)
        event_uri, _ = write_event(self.store, event)
        return {"record": updated, "event": event, "event_uri": event_uri, "request_id": request_id,
                "webhook": post_webhook(url, event) if url else None}

    def approve(self, group: str, version: int, reason: str, **kwargs) -> dict:
        return self.transition(group, version, APPROVED, reason, **kwargs)

    def reject(self, group: str, version: int, reason: str, **kwargs) -> dict:
        return self.transition(group, version, REJECTED, reason, **kwargs)

    def events(self, group: str) -> list[dict]:
        """The approval events of `group`, oldest version and change first."""
        validate_name(group, "model group")
        return list_events(self.store, group)

    def emit_missing_events(self, group: str) -> list[str]:
        """Write any event a crash between a decision and its event left unwritten.

        Idempotent: each event is an exclusive create, so existing ones stay as they are.
        Returns the URIs of the events this call created."""
        created = []
        records, _ = self.records(group)
        for record in records:
            history = record.get("history", [])
            for seq in range(0 if history and history[0]["status"] != PENDING else 1, len(history)):
                uri, fresh = write_event(self.store, build_event(record, seq, self.root_uri))
                if fresh:
                    created.append(uri)
        return created


def open_registry(root_uri: str) -> ModelRegistry:
    return ModelRegistry(root_uri)
