"""Approval events: one JSON document per status change, for deployment automation to act on.

An event is written under the registry's events prefix

    events/<group>/<version:08d>-<seq:04d>-<status>.json

where `seq` is the index of the change in the version's history. Only the writer whose
conditional record update won owns that index, and the event is created with an exclusive
create (S3 `IfNoneMatch="*"`), so each transition yields exactly one event, and re-emitting
one (after a crash between the two writes) cannot duplicate it. Optionally the event is also
POSTed to a webhook; a webhook that is down never undoes or blocks a decision.
"""

from __future__ import annotations

import json
import logging
import os

from portway.errors import ParameterError
from portway.objectstore import ObjectStore

EVENT_SCHEMA = "portway.dev/model-approval-event/v1"
EVENTS_PREFIX = "events"
WEBHOOK_ENV = "PORTWAY_WEBHOOK_URL"
# A decision must not hang on a slow receiver; the event document is the durable record.
WEBHOOK_TIMEOUT_SECONDS = 5.0

log = logging.getLogger("portway.registry")


def event_key(group: str, version: int, seq: int, status: str) -> str:
    return f"{EVENTS_PREFIX}/{group}/{version:08d}-{seq:04d}-{status}.json"


def build_event(record: dict, seq: int, registry_uri: str) -> dict:
    """The event for history entry `seq` of `record` (the record as committed)."""
    change = record["history"][seq]
    return {
        "schema": EVENT_SCHEMA,
        "type": f"portway.model.{change['status'].lower()}",
        "registry": registry_uri,
        "group": record["group"],
        "version": record["version"],
        "sequence": seq,
        "from_status": change.get("from"),
        "status": change["status"],
        "at": change["at"],
        "by": change["by"],
        "reason": change.get("reason", ""),
        "request_id": change.get("request_id"),
        "artifact_uri": record["artifact_uri"],
        "model_format": record.get("model_format", "xgboost"),
        "metrics": record.get("metrics", {}),
    }


def write_event(store: ObjectStore, event: dict) -> tuple[str, bool]:
    """(URI of the event, whether this call created it)."""
    key = event_key(event["group"], event["version"], event["sequence"], event["status"])
    created = store.put_if_absent(key, json.dumps(event, indent=2).encode())
    return store.uri(key), created


def list_events(store: ObjectStore, group: str) -> list[dict]:
    events = []
    for key in store.list(f"{EVENTS_PREFIX}/{group}/"):
        try:
            events.append({**json.loads(store.get(key).data), "event_uri": store.uri(key)})
        except ValueError:
            log.warning("skipping unreadable event %s", store.uri(key))
    return events


def webhook_url(explicit: str | None) -> str | None:
    url = explicit or os.environ.get(WEBHOOK_ENV) or None
    if url is not None and not url.startswith(("http://", "https://")):
        raise ParameterError(f"Webhook URL {url!r} is not an http:// or https:// URL (--webhook or {WEBHOOK_ENV}).")
    return url


def post_webhook(url: str, event: dict, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> dict:
    """POST the event as JSON. Never raises: returns {"url", "ok", "status" or "error"}."""
    import requests

    try:
        response = requests.post(url, json=event, timeout=timeout,
                                 headers={"User-Agent": "portway", "X-Portway-Event": event["type"]})
    except requests.RequestException as exc:
        log.warning("webhook %s failed: %s (the decision stands; the event is at its URI)", url, exc)
        return {"url": url, "ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    if not response.ok:
        log.warning("webhook %s answered %s (the decision stands)", url, response.status_code)
    return {"url": url, "ok": response.ok, "status": response.status_code}
