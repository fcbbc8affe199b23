"""The approval workflow's rules: which status changes are allowed, and what each one records.

    PendingManualApproval ──approve──► Approved ──reject (revoke)──► Rejected
            └──────────────reject──────────────────────────────────────┘

Nothing leaves Rejected (register a new version instead), and nothing goes back to Pending,
so `:approved` can only ever move to a version somebody approved on purpose.
"""

from __future__ import annotations

from portway.errors import ConcurrencyConflict, ParameterError, RegistryError

PENDING = "PendingManualApproval"
APPROVED = "Approved"
REJECTED = "Rejected"
APPROVAL_STATUSES = (PENDING, APPROVED, REJECTED)

# (from, to) -> the verb a person uses for it.
ALLOWED_TRANSITIONS = {
    (PENDING, APPROVED): "approve",
    (PENDING, REJECTED): "reject",
    (APPROVED, REJECTED): "revoke",
}
# A reason is a sentence for the audit trail, not a document.
MAX_REASON_LENGTH = 1000


def check_approval_status(status: str) -> str:
    if status not in APPROVAL_STATUSES:
        raise ParameterError(f"approval_status {status!r} is not valid; expected one of {', '.join(APPROVAL_STATUSES)}.")
    return status


def check_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ParameterError("A reason is required for an approval decision (--reason \"...\"); it goes into the "
                             "version's history and the approval event.")
    if len(reason) > MAX_REASON_LENGTH:
        raise ParameterError(f"The reason is {len(reason)} characters long; the limit is {MAX_REASON_LENGTH}.")
    return reason


def last_change(record: dict) -> dict:
    history = record.get("history") or []
    return history[-1] if history else {}


def describe_last_change(record: dict) -> str:
    change = last_change(record)
    if not change:
        return "with no recorded history"
    why = f": {change['reason']!r}" if change.get("reason") else ""
    return f"by {change.get('by', '?')} at {change.get('at', '?')}{why}"


def check_transition(record: dict, new_status: str, raced: bool = False) -> str:
    """The verb of the change from the record's status to `new_status`, or an error saying why not.

    `raced` is True when the record changed under us between our read and our write: the
    message then says that somebody else's decision won."""
    check_approval_status(new_status)
    current = record.get("approval_status")
    reference = f"{record.get('group')}:{record.get('version')}"
    verb = ALLOWED_TRANSITIONS.get((current, new_status))
    if verb is not None:
        return verb
    state = f"{reference} is already {current} ({describe_last_change(record)})"
    if raced:
        raise ConcurrencyConflict(
            f"Another decision won the race: {state}. Your change to {new_status} was not written; "
            "look at the version's history (portway models show) and decide again if needed."
        )
    if current == new_status:
        raise RegistryError(f"{state}; nothing to change.")
    allowed = ", ".join(f"{a} -> {b}" for a, b in ALLOWED_TRANSITIONS)
    raise RegistryError(f"{state}; {current} -> {new_status} is not allowed (allowed: {allowed}).")


def new_request_id() -> str:
    """A fresh identity for one decision attempt.

    Two decisions by the same person, with the same reason, in the same millisecond are
    otherwise identical entries; the id is what tells the process whose write won from the
    ones that lost (see ModelRegistry.transition)."""
    import uuid

    return uuid.uuid4().hex


def history_entry(from_status: str, to_status: str, at: str, by: str, reason: str, request_id: str) -> dict:
    return {"status": to_status, "from": from_status, "at": at, "by": by, "reason": reason,
            "request_id": request_id}


def is_own_entry(entry: dict, request_id: str) -> bool:
    """Whether a history entry was written by the decision attempt `request_id`."""
    return bool(request_id) and entry.get("request_id") == request_id
