"""Errors a user can act on.

Every error Portway raises for bad input or a bad environment is a PortwayError whose
message is one paragraph naming the file, field or value and what was expected. The CLI
prints the message (no traceback) and exits with the error's exit code, from the one table
in portway.exitcodes.
"""

from portway import exitcodes


class PortwayError(Exception):
    """Base class: a message meant for the user, and an exit code."""

    exit_code = exitcodes.BAD_INPUT

    def __init__(self, message: str):
        # One line, so that it survives being parsed back out of a step's log.
        super().__init__(" ".join(str(message).split()))


class InputDataError(PortwayError):
    """The input dataset is missing, empty or does not match its declaration."""


class ParameterError(PortwayError):
    """A pipeline or command parameter has a value outside what it accepts."""


class RegistryError(PortwayError):
    """The model registry refused or could not complete an operation."""


class ConcurrencyConflict(RegistryError):
    """Somebody else changed the object between our read and our write."""

    exit_code = exitcodes.LOST_RACE


class StorageError(PortwayError):
    """An object store refused an operation for a reason the user must fix (403, no such bucket, bad URI)."""


class TransientError(PortwayError):
    """A store or server was unreachable or kept failing after its retries: nothing the user typed
    is wrong, and the same command may succeed later."""

    exit_code = exitcodes.FAILED


class TransientStorageError(StorageError, TransientError):
    """An object store (S3) failed after its retries: 5xx, throttling, timeouts, refused connections."""

    exit_code = exitcodes.FAILED


class PipelineFailed(PortwayError):
    """A pipeline step failed; the message carries the step's own error."""

    exit_code = exitcodes.FAILED


class DeployError(PortwayError):
    """The cluster refused a deployment, or the model did not become ready in time."""

    exit_code = exitcodes.FAILED
