"""The web app: routes, security headers, CSRF and decisions. Page content comes from pages.py."""

from __future__ import annotations

from pathlib import Path

# At module level: FastAPI resolves the routes' `Request` annotations from this module's
# globals. This module is imported only when the UI starts.
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portway.errors import ConcurrencyConflict, ParameterError, PortwayError, RegistryError
from portway.names import validate_name
from portway.registry import APPROVAL_STATUSES, APPROVED, REJECTED, current_user
from portway.ui import csrf, pages
from portway.ui.identity import reviewer

HERE = Path(__file__).parent
# No script source at all: the pages work without JavaScript and nothing may run in them.
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# The registered report as it is: its inline CSS and SVG render; scripts, fetches, fonts,
# frames and forms do not, and `sandbox` gives it an opaque origin even if opened directly.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; "
              "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
DECISIONS = {"approve": APPROVED, "reject": REJECTED}


def _templates():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    # autoescape on for every template: nothing from a record or a request reaches a page raw.
    return Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined)


def _status_of(exc: PortwayError) -> int:
    if isinstance(exc, ConcurrencyConflict):
        return 409
    if isinstance(exc, ParameterError):
        return 400
    if isinstance(exc, RegistryError):
        return 404 if "does not exist" in str(exc) or "has no versions" in str(exc) else 409
    return 500


def create_app(registry, trust_proxy_headers: bool = False, webhook: str | None = None,
               local_user: str | None = None):
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    env = _templates()
    secret = csrf.server_secret()
    local_user = local_user or current_user()
    stylesheet = (HERE / "static" / "ui.css").read_bytes()

    def session_of(request: Request) -> tuple[str, bool]:
        session = request.cookies.get(csrf.SESSION_COOKIE)
        return (session, False) if session else (csrf.new_session_id(), True)

    def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
        session, fresh = session_of(request)
        who = reviewer(request.headers, trust_proxy_headers, local_user)
        html = env.get_template(template).render(
            csrf_field=csrf.TOKEN_FIELD, csrf_token=csrf.token_for(secret, session), who=who,
            registry_uri=registry.root_uri, **context)
        response = HTMLResponse(html, status_code=status_code)
        if fresh:
            response.set_cookie(csrf.SESSION_COOKIE, session, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https", path="/")
        return response

    def error(request: Request, exc: PortwayError, status_code: int | None = None) -> HTMLResponse:
        return render(request, "error.html", status_code or _status_of(exc), message=str(exc))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz")
    def healthz():
        return Response("ok\n", media_type="text/plain")

    @app.get("/static/ui.css")
    def css():
        return Response(stylesheet, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/", response_class=HTMLResponse)
    def groups(request: Request):
        try:
            return render(request, "groups.html", **pages.groups_page(registry))
        except PortwayError as exc:
            return error(request, exc)

    @app.get("/groups/{group}", response_class=HTMLResponse)
    def group(request: Request, group: str, status: str = ""):
        try:
            validate_name(group, "model group")
            if status and status not in APPROVAL_STATUSES:
                raise ParameterError(f"Status filter {status!r} is not one of {', '.join(APPROVAL_STATUSES)}.")
            return render(request, "group.html", **pages.group_page(registry, group, status or None))
        except PortwayError as exc:
            return error(request, exc)

    def parse_version(group: str, version: str) -> int:
        validate_name(group, "model group")
        if not version.isdigit() or int(version) < 1:
            raise ParameterError(f"Version {version!r} is not a version number (1, 2, ...).")
        return int(version)

    def version_response(request: Request, group: str, version: str, status_code: int = 200, **extra):
        number = parse_version(group, version)
        try:
            context = pages.version_page(registry, group, number)
        except RegistryError as exc:
            if "corrupt" not in str(exc):
                raise
            # Shown as what it is, in the page frame, with a way back to the group.
            return render(request, "corrupt.html", 200, group=group, version=number, message=str(exc))
        history = context["record"].get("history") or []
        decided = str(extra.pop("decided", ""))
        recorded = history[int(decided)] if decided.isdigit() and 0 < int(decided) < len(history) else None
        return render(request, "version.html", status_code, **context, recorded=recorded,
                      outcome=extra.get("outcome", ""))

    @app.get("/groups/{group}/versions/{version}", response_class=HTMLResponse)
    def version(request: Request, group: str, version: str, decided: str = ""):
        try:
            return version_response(request, group, version, decided=decided)
        except PortwayError as exc:
            return error(request, exc)

    @app.get("/groups/{group}/versions/{version}/report.html")
    def report(request: Request, group: str, version: str):
        from portway.objectstore import NotFound

        try:
            record = registry.get(group, parse_version(group, version))
            if "report.html" not in record.get("files", []):
                raise RegistryError(f"{group}:{version} has no report.html.")
            data = registry.store.get(registry.artifact_key(record, "report.html")).data
        except NotFound:
            return error(request, RegistryError(f"{group}:{version} lists report.html but it is missing."), 404)
        except PortwayError as exc:
            return error(request, exc)
        return Response(data, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": REPORT_CSP, "X-Frame-Options": "SAMEORIGIN"})

    @app.post("/groups/{group}/versions/{version}/decision", response_class=HTMLResponse)
    async def decide(request: Request, group: str, version: str):
        form = await request.form()
        if not csrf.token_is_valid(secret, request.cookies.get(csrf.SESSION_COOKIE), form.get(csrf.TOKEN_FIELD)):
            return render(request, "error.html", 403, message=(
                "This form's security token is missing or does not match your session, so nothing was "
                "changed. Reload the version page and decide again."))
        try:
            number = parse_version(group, version)
            verb, reason = str(form.get("decision", "")), str(form.get("reason", ""))
            if verb not in DECISIONS:
                raise ParameterError(f"Decision {verb!r} is not one of {', '.join(DECISIONS)}.")
            who = reviewer(request.headers, trust_proxy_headers, local_user)
            if who is None:
                return render(request, "error.html", 401, message=(
                    "No identity came with this request: the server trusts X-Forwarded-Email/X-Forwarded-User "
                    "from an auth proxy and neither was set. Sign in through the proxy."))
            result = registry.transition(group, number, DECISIONS[verb], reason, by=who, webhook=webhook)
        except ConcurrencyConflict as exc:
            return version_response(request, group, version, 409, outcome=str(exc))
        except RegistryError as exc:
            if "does not exist" in str(exc) or "corrupt" in str(exc):
                return error(request, exc)
            return version_response(request, group, version, 409, outcome=str(exc))
        except ParameterError as exc:
            try:
                return version_response(request, group, version, 400, outcome=str(exc))
            except PortwayError:
                return error(request, exc)
        seq = len(result["record"]["history"]) - 1
        return RedirectResponse(f"/groups/{group}/versions/{number}?decided={seq}", status_code=303)

    @app.get("/compare", response_class=HTMLResponse)
    def compare(request: Request):
        references = [v.strip() for v in request.query_params.getlist("v") if v.strip()]
        try:
            return render(request, "compare.html", **pages.compare_page(registry, references))
        except PortwayError as exc:
            return error(request, exc)

    return app
