"""Submit compiled pipelines: to an Argo server (hera's WorkflowsService) or to KFP (kfp.Client)."""

from __future__ import annotations

from portway.errors import PortwayError

# Every call to a server gets a deadline: a hung proxy must not hang `portway submit`.
REQUEST_TIMEOUT_SECONDS = 30


class SubmitError(PortwayError):
    """The server could not be reached, refused the credentials, or rejected the submission."""


def timeout_session(verify: bool | str = True):
    """A requests.Session whose every request has a timeout (hera's service sets none)."""
    import requests

    class _Session(requests.Session):
        def request(self, method, url, **kwargs):
            kwargs.setdefault("timeout", REQUEST_TIMEOUT_SECONDS)
            return super().request(method, url, **kwargs)

    session = _Session()
    session.verify = verify
    return session


def unreachable(what: str, url: str, exc: Exception) -> SubmitError:
    import requests

    reason = str(exc).split(" (Caused by ")[-1].rstrip(")") or type(exc).__name__
    if isinstance(exc, requests.exceptions.SSLError):
        return SubmitError(f"TLS verification failed for the {what} at {url}: {reason}. Pass the CA with --ca-cert, "
                           "or --insecure-skip-verify for a test install.")
    if isinstance(exc, requests.exceptions.Timeout):
        return SubmitError(f"the {what} at {url} did not answer within {REQUEST_TIMEOUT_SECONDS}s: {reason}.")
    return SubmitError(f"cannot reach the {what} at {url}: {reason}. Check the URL (scheme and port) and that "
                       "the server is running, e.g. behind `kubectl port-forward`.")


def refused(what: str, url: str, status: int, message: str, token_hint: str, namespace: str | None) -> SubmitError:
    """A clear message for an error answer of a server."""
    message = " ".join(str(message).split())[:400]
    if status == 401:
        return SubmitError(f"the {what} at {url} refused the credentials (401): {message}. {token_hint}")
    if status == 403:
        where = f" in namespace {namespace!r}" if namespace else ""
        return SubmitError(f"the {what} at {url} refused the request (403){where}: {message}. The token's account "
                           f"lacks permission; {token_hint}")
    if status == 404 and namespace:
        return SubmitError(f"namespace {namespace!r} does not exist on the {what} at {url} (404): {message}.")
    return SubmitError(f"the {what} at {url} answered {status}: {message}.")
