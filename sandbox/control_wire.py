"""The control API's wire format, shared by both faces: a JSON body or query in,
`{"ok": true, "result": ...}` or `{"ok": false, "error": ...}` out."""

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox.limits import LimitSet

Body = dict[str, Any]


class ControlError(Exception):
    """A refused control request, answered as {"ok": false, "error": ...}."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def integer(body: Body, name: str, default: Any = ...) -> Any:
    """Return an integer field of a control request; without a default it is required."""
    value = body.get(name)
    if value is None or value == "":
        if default is ...:
            raise ControlError(f"{name} is required")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be an integer") from None


def flag(body: Body, name: str) -> bool:
    """Return a boolean field, given as JSON or as "true"/"1" in a query string."""
    value = body.get(name)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


async def read_body(request: web.Request) -> Body:
    """Merge the query string with a POST's JSON object."""
    body: Body = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        try:
            data = await request.json()
        except ValueError:
            raise ControlError("body must be JSON") from None
        if not isinstance(data, dict):
            raise ControlError("body must be a JSON object")
        body.update(data)
    return body


def ok(result: Any) -> web.Response:
    """Answer a control request that succeeded."""
    return web.json_response({"ok": True, "result": result}, dumps=dumps)


def refuse(error: ControlError) -> web.Response:
    """Answer a refused control request with its 4xx status."""
    return web.json_response({"ok": False, "error": str(error)}, status=error.status)


def dumps(body: Any) -> str:
    """Write JSON keeping non-ASCII text readable, or escaped when it holds what UTF-8
    cannot encode (half of a UTF-16 pair, which a client's JSON may carry)."""
    text = json.dumps(body, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(body)
    return text


def add_limits_routes(app: web.Application, limits_of: Callable[[web.Request], LimitSet]) -> None:
    """Register GET /control/limits (read) and POST (change some) for one face's limits."""

    async def get_limits(request: web.Request) -> web.Response:
        return ok(limits_of(request).to_json())

    async def set_limits(request: web.Request) -> web.Response:
        limits = limits_of(request)
        try:
            limits.update(await read_body(request))
        except (ControlError, ValueError) as exc:
            return refuse(ControlError(str(exc)))
        return ok(limits.to_json())

    app.router.add_get("/control/limits", get_limits)
    app.router.add_post("/control/limits", set_limits)
