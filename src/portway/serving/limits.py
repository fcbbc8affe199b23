"""A request body size limit for the model server (HTTP 413 above it).

MLServer 1.7.1 has no setting for it and uvicorn reads any body it is sent, so a client could
make the server buffer an arbitrarily large JSON document before the model sees it. This is
a plain ASGI middleware: it refuses on the Content-Length header when there is one and
counts the bytes of a chunked body as they arrive, never holding more than the limit.
"""

from __future__ import annotations

import json

# 10 MiB is ~100,000 rows of 10 features as V2 JSON; larger batches belong to batch scoring.
DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024


class BodySizeLimit:
    def __init__(self, app, max_bytes: int = DEFAULT_MAX_REQUEST_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await self._answer(send, 400, f"Content-Length {declared.decode(errors='replace')!r} is not a number.")
                return
            if int(declared) > self.max_bytes:
                await self._answer(send, 413, self._message(int(declared)))
                return
            await self.app(scope, receive, send)  # the server reads no more than it was told
            return
        # No Content-Length (a chunked body): read it here, up to the limit, and hand the app a
        # replay. Raising from inside the app's receive would not do: FastAPI turns any error
        # while reading the body into a 400.
        chunks, received = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > self.max_bytes:
                await self._answer(send, 413, self._message(received, at_least=True))
                return
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: wait for the disconnect, as the server would
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _message(self, size: int, at_least: bool = False) -> str:
        return (f"The request body is {'over ' if at_least else ''}{size} bytes; this server takes at most "
                f"{self.max_bytes} bytes (portway serve --max-request-bytes). Split the batch.")

    @staticmethod
    async def _answer(send, status: int, message: str) -> None:
        # The V2 protocol's error body: {"error": "..."}.
        body = json.dumps({"error": message}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
