"""retryStrategy: whether to retry, and how long to back off, as Argo's controller decides.

Source: argo-workflows workflow/controller/operator.go processNodeRetries and
buildRetryStrategyLocalScope; docs/retries.md. Summary:
- retryPolicy (default OnFailure): Always retries Failed and Error, OnFailure only Failed,
  OnError only Error, OnTransientError only errors whose message is a transient one;
- `expression` (expr-lang, with `retries`, `lastRetry.exitCode|status|duration|message`, all
  strings) must be true to retry; false ends the node with "retryStrategy.expression evaluated
  to false";
- `limit` is the number of retries (limit+1 attempts); none means unlimited;
- backoff: wait = duration * factor^(attempts-1), capped by `cap`; `maxDuration` counts from the
  first attempt's start: past it (or a wait that would end past it) the node fails;
- durations are Go durations, or plain integers meaning seconds (parseStringToDuration).
"""

from __future__ import annotations

import re

from .expressions import ExpressionError
from .model import ERROR, FAILED

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
# util/errors/errors.go IsTransientErr: these messages are transient (plus TRANSIENT_ERROR_PATTERN)
TRANSIENT_MESSAGES = ("exceeded quota", "connection reset by peer", "connection refused", "i/o timeout",
                      "Internal error occurred", "http2: client connection lost", "etcdserver: leader changed",
                      "etcdserver: request timed out", "the object has been modified", "unexpected EOF",
                      "no such host", "TLS handshake timeout", "pod deleted")


class RetryConfigError(Exception):
    pass


def parse_duration(text) -> float:
    """Seconds from a Go duration ("1m30s") or an integer string meaning seconds."""
    text = str(text).strip()
    if re.fullmatch(r"-?\d+", text):
        return float(int(text))
    pos, total = 0, 0.0
    if not text:
        raise RetryConfigError("empty duration")
    while pos < len(text):
        match = _DURATION.match(text, pos)
        if not match:
            raise RetryConfigError(f"time: invalid duration {text!r}")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return total


def backoff_seconds(backoff: dict, attempts_so_far: int) -> float:
    """The wait before the next attempt, after `attempts_so_far` (>= 1) attempts."""
    if not backoff.get("duration"):
        raise RetryConfigError("no base duration specified for retryStrategy")
    wait = parse_duration(backoff["duration"])
    factor = backoff.get("factor")
    if factor is not None and int(factor) > 0:
        wait = wait * (int(factor) ** (attempts_so_far - 1))
    if backoff.get("cap"):
        wait = min(wait, parse_duration(backoff["cap"]))
    return wait


def policy_allows(policy: str | None, phase: str, message: str) -> bool:
    policy = policy or "OnFailure"
    if policy == "Always":
        return phase in (FAILED, ERROR)
    if policy == "OnFailure":
        return phase == FAILED
    if policy == "OnError":
        return phase == ERROR
    if policy == "OnTransientError":
        return phase in (FAILED, ERROR) and any(m in message for m in TRANSIENT_MESSAGES)
    raise RetryConfigError(f"{policy} is not a valid RetryPolicy")


def retry_scope(attempts: list) -> dict[str, str]:
    """buildRetryStrategyLocalScope: strings, as Argo puts them in the expression environment."""
    last = attempts[-1]
    exit_code = (last.outputs or {}).get("exitCode")
    return {
        "retries": str(len(attempts) - 1),
        "lastRetry.exitCode": str(exit_code) if exit_code is not None else "-1",
        "lastRetry.status": last.phase,
        "lastRetry.duration": _go_seconds(max(0.0, last.finished - last.started)),
        "lastRetry.message": last.message,
    }


def _go_seconds(seconds: float) -> str:
    from .expressions import go_float

    return go_float(float(seconds))


def limit_of(strategy: dict) -> int | None:
    limit = strategy.get("limit")
    if limit is None:
        return None
    try:
        return int(str(limit))
    except ValueError:
        raise RetryConfigError(f"retryStrategy.limit {limit!r} is not an integer") from None


def decide(strategy: dict, attempts: list, now: float, env_eval) -> tuple[bool, str, float]:
    """(retry?, message if not, seconds to wait first) after the last attempt failed or errored."""
    last = attempts[-1]
    wait = 0.0
    backoff = strategy.get("backoff")
    if backoff:
        deadline = None
        if backoff.get("maxDuration"):
            deadline = attempts[0].started + parse_duration(backoff["maxDuration"])
            if now > deadline:
                return False, "Max duration limit exceeded", 0.0
        wait = backoff_seconds(backoff, len(attempts))
        if deadline is not None and last.finished + wait > deadline:
            return False, "Backoff would exceed max duration limit", 0.0
    allowed = policy_allows(strategy.get("retryPolicy"), last.phase, last.message)
    if strategy.get("expression"):
        try:
            keep_going = env_eval(strategy["expression"], retry_scope(attempts))
        except ExpressionError as exc:
            raise RetryConfigError(f"retryStrategy.expression: {exc}") from None
        if keep_going is not True:
            return False, "retryStrategy.expression evaluated to false", 0.0
    if not allowed:
        return False, last.message, 0.0
    limit = limit_of(strategy)
    if limit is not None and len(attempts) > limit:
        return False, "No more retries left", 0.0
    return True, "", wait
