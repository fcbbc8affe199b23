"""KFP's retry policy (task.set_retry) as Argo's retryStrategy (docs/retries.md).

- limit: maxRetryCount; retryPolicy Always: KFP retries every failure, and "Always" also covers
  errors such as a reclaimed spot node (docs/retries.md "Retry policies").
- backoff: duration, an integer factor, and `cap` for KFP's backoff_max_duration (the longest wait
  between attempts). Not `maxDuration`: that is measured from the first attempt's start, so a step
  killed after it (a reclaimed node 10 minutes in) would never be retried.
- expression: never retry exit code 2, which Portway steps (portway.exitcodes) and argparse use for bad
  input; rerunning cannot fix it. Argo retries only when both the policy and the expression agree.
"""

from __future__ import annotations

from collections.abc import Callable

BAD_INPUT_EXIT_CODE = 2
EXPRESSION = f"lastRetry.exitCode != '{BAD_INPUT_EXIT_CODE}'"


def retry_strategy(policy: dict | None, task: str, warn: Callable[[str], None]) -> dict | None:
    if not policy or not policy.get("maxRetryCount"):
        return None
    backoff = {}
    if policy.get("backoffDuration"):
        backoff["duration"] = policy["backoffDuration"]
    factor = policy.get("backoffFactor")
    if factor is not None:
        if float(factor) != int(factor):
            warn(f"task {task!r}: Argo's backoff factor is an integer; {factor} becomes {round(factor)}")
        backoff["factor"] = round(factor)
    if policy.get("backoffMaxDuration"):
        backoff["cap"] = policy["backoffMaxDuration"]
    strategy = {"limit": int(policy["maxRetryCount"]), "retryPolicy": "Always", "expression": EXPRESSION}
    if backoff:
        strategy["backoff"] = backoff
    return strategy
