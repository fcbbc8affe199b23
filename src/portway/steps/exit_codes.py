"""A step's exit code says whether retrying it can help.

    0  success
    1  transient or unexpected failure (an S3 outage after the client's retries, a killed
       node, a bug): retrying may succeed
    2  bad input (PortwayError with exit code 2): the same input fails the same way, so
       `portway run` stops at once and the Argo target's retryStrategy does not retry it
    3  a lost race on a conditional write (ConcurrencyConflict)

Components wrap their body in `exit_codes()`: a PortwayError leaves the step as one line,
`portway.errors.<Kind>: <message>` (the line `portway run` shows as the step's error), and
the error's exit code; anything else keeps Python's traceback and exit code 1.
"""

from __future__ import annotations

import contextlib
import sys

BAD_INPUT_EXIT_CODE = 2


@contextlib.contextmanager
def exit_codes():
    from portway.errors import PortwayError

    try:
        yield
    except PortwayError as exc:
        kind = type(exc)
        print(f"portway.errors.{kind.__name__}: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(exc.exit_code) from None
