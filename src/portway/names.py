"""Validation of names that become file paths or object keys.

Model group names, run ids and artifact names end up in paths and S3 keys, so they are
restricted to a safe alphabet: no `..`, no slashes, no control characters, bounded length.
"""

import re

from portway.errors import ParameterError

# 63 matches a Kubernetes label value / DNS label, so a name can also label a workload.
MAX_NAME_LENGTH = 63
_SAFE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


def validate_name(value: object, what: str) -> str:
    """Return `value` if it is a safe name, else raise ParameterError naming `what`."""
    if not isinstance(value, str) or not value:
        raise ParameterError(f"{what} must be a non-empty string, got {value!r}.")
    if len(value) > MAX_NAME_LENGTH:
        raise ParameterError(
            f"{what} {value[:20]!r}… is {len(value)} characters long; the limit is {MAX_NAME_LENGTH}."
        )
    # fullmatch, not match: `$` also matches before a trailing newline ("name\n" would pass).
    if ".." in value or not _SAFE_NAME.fullmatch(value):
        raise ParameterError(
            f"{what} {value!r} is not allowed: use letters, digits, '.', '_' and '-', starting and "
            "ending with a letter or digit (no slashes, '..', spaces or control characters)."
        )
    return value
