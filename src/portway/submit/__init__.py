"""Submit compiled pipelines: to an Argo server (hera's WorkflowsService) or to KFP (kfp.Client)."""

from __future__ import annotations

import os

from portway.errors import PortwayError, TransientError

# Every call to a server gets a deadline: a hung proxy must not hang `portway submit`.
REQUEST_TIMEOUT_SECONDS = 30


class SubmitError(PortwayError):
    """The server refused the credentials or the request, or has no such object: fix and retry (exit 2)."""


class ServerUnavailable(SubmitError, TransientError):
    """The server could not be reached, timed out or answered 5xx: try again later (exit 1)."""

    exit_code = TransientError.exit_code


class StillRunning(TransientError):
    """--timeout ran out while the run kept going (exit 1: it may still succeed)."""


# The environment variables Argo's and KFP's own CLIs and SDKs read (flags override them):
# Argo: docs/cli/argo.md of argo-workflows (ARGO_SERVER is host:port without a scheme; ARGO_SECURE
# picks https, the default, or http; ARGO_BASE_HREF a path prefix); KFP: kfp/client/client.py.
ARGO_SERVER_ENV, ARGO_SECURE_ENV, ARGO_BASE_HREF_ENV = "ARGO_SERVER", "ARGO_SECURE", "ARGO_BASE_HREF"
ARGO_NAMESPACE_ENV, ARGO_INSECURE_ENV = "ARGO_NAMESPACE", "ARGO_INSECURE_SKIP_VERIFY"
KFP_ENDPOINT_ENV = "KF_PIPELINES_ENDPOINT"


def argo_server_url(flag: str | None) -> str | None:
    """--server, else $ARGO_SERVER as the argo CLI reads it (https unless ARGO_SECURE=false)."""
    if flag:
        return flag
    server = os.environ.get(ARGO_SERVER_ENV, "").strip()
    if not server:
        return None
    if not server.startswith(("http://", "https://")):
        scheme = "http" if os.environ.get(ARGO_SECURE_ENV, "").strip().lower() == "false" else "https"
        server = f"{scheme}://{server}"
    base = os.environ.get(ARGO_BASE_HREF_ENV, "").strip().strip("/")
    return f"{server.rstrip('/')}/{base}" if base else server


def argo_namespace(flag: str | None) -> str | None:
    return flag or os.environ.get(ARGO_NAMESPACE_ENV, "").strip() or None


def kfp_host(flag: str | None) -> str | None:
    return flag or os.environ.get(KFP_ENDPOINT_ENV, "").strip() or None


def tls_verify(insecure_flag: bool, ca_cert: str | None, target: str) -> bool | str:
    """requests' `verify`: --insecure-skip-verify (or ARGO_INSECURE_SKIP_VERIFY=true for Argo), a CA bundle, or on."""
    from pathlib import Path

    from portway.errors import ParameterError

    insecure_env = target == "argo" and os.environ.get(ARGO_INSECURE_ENV, "").strip().lower() == "true"
    if insecure_flag or insecure_env:
        return False
    if ca_cert:
        if not Path(ca_cert).is_file():
            raise ParameterError(f"--ca-cert {ca_cert} does not exist.")
        return ca_cert
    return True


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
    """A TLS failure is the user's to fix (exit 2); a refused or timed-out connection is transient (exit 1)."""
    import requests

    reason = str(exc).split(" (Caused by ")[-1].rstrip(")") or type(exc).__name__
    if isinstance(exc, requests.exceptions.SSLError):
        return SubmitError(f"TLS verification failed for the {what} at {url}: {reason}. Pass the CA with --ca-cert, "
                           "or --insecure-skip-verify for a test install.")
    if isinstance(exc, requests.exceptions.Timeout):
        return ServerUnavailable(f"the {what} at {url} did not answer within {REQUEST_TIMEOUT_SECONDS}s: {reason}.")
    return ServerUnavailable(f"cannot reach the {what} at {url}: {reason}. Check the URL (scheme and port) and that "
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
    if status == 404 and namespace and "namespace" in message.lower():
        return SubmitError(f"namespace {namespace!r} does not exist on the {what} at {url} (404): {message}.")
    if status == 404:
        return SubmitError(f"not found on the {what} at {url} (404): {message}.")
    if status >= 500 or status in (0, 429):
        return ServerUnavailable(f"the {what} at {url} answered {status}: {message}; try again later.")
    return SubmitError(f"the {what} at {url} answered {status}: {message}.")
