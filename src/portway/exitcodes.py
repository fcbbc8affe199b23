"""The exit codes of every `portway` command: one table, used by errors.py, the CLI and the README.

| code | meaning |
|---|---|
| 0 | success |
| 1 | a run or step failed, or a transient failure (a store or server unreachable or failing after retries) |
| 2 | bad input or usage: a file, value, flag, reference or credential the user must fix; never retried |
| 3 | lost a race: a conditional write found the object changed by somebody else |
| 130 | interrupted (Ctrl-C / SIGINT: 128 + 2, the shell's convention) |
| 141 | the reader of the output went away (`| head`: 128 + SIGPIPE 13); nothing is printed |
"""

from __future__ import annotations

OK = 0
FAILED = 1  # a failed run or step, or a transient failure worth retrying later
BAD_INPUT = 2  # bad input or usage (argparse exits 2 for usage errors too)
LOST_RACE = 3
INTERRUPTED = 130
CLOSED_PIPE = 141

TABLE = {
    OK: "success",
    FAILED: "a run or step failed, or a transient failure (store or server unreachable or failing after retries)",
    BAD_INPUT: "bad input or usage (file, value, flag, reference or credentials to fix); never retried",
    LOST_RACE: "lost a race: a conditional write found the object changed by somebody else",
    INTERRUPTED: "interrupted (Ctrl-C)",
    CLOSED_PIPE: "the reader of the output closed the pipe (e.g. piped into `head`); ends quietly",
}


def for_os_error(exc: OSError) -> int:
    """An OSError no layer turned into a PortwayError: a path the user named that is missing, not
    permitted or of the wrong kind is bad input; anything else (a full disk, I/O, a dropped
    connection) is a failure that may pass."""
    user_fixable = (FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError, FileExistsError)
    return BAD_INPUT if isinstance(exc, user_fixable) else FAILED
