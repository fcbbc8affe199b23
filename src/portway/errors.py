"""Errors a user can act on.

Every error Portway raises for bad input or a bad environment is a PortwayError whose
message is one paragraph naming the file, field or value and what was expected. The CLI
prints the message (no traceback) and exits with the error's exit code.
"""


class PortwayError(Exception):
    """Base class: a message meant for the user, and an exit code."""

    exit_code = 2

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

    exit_code = 3


class StorageError(PortwayError):
    """An object store (filesystem or S3) failed after its retries."""


class PipelineFailed(PortwayError):
    """A pipeline step failed; the message carries the step's own error."""

    exit_code = 1


class DeployError(PortwayError):
    """The cluster refused a deployment, or the model did not become ready in time."""

    exit_code = 1
