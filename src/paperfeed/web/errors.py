"""The one mapping from failures to answers: ``{"error": message}`` under /api/ and /feeds/, an
error page elsewhere, with the status the error carries (PaperfeedError.status_code), 400 for
malformed parameters and a logged, detail-free 500 for anything unexpected."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

from paperfeed.errors import PaperfeedError
from paperfeed.web.templating import error_page

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/feeds/", "/mcp")
INTERNAL = "something went wrong on our side; it has been logged"


def error_response(request: Request, status_code: int, message: str) -> Response:
    if request.url.path.startswith(JSON_PREFIXES):
        return JSONResponse({"error": message}, status_code=status_code)
    return error_page(request, status_code, message)


def validation_message(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(
            str(p) for p in problem.get("loc", ()) if p not in ("query", "path", "body")
        )
        parts.append(f"{where}: {problem.get('msg', 'invalid value')}" if where else problem["msg"])
    return "malformed request: " + ("; ".join(parts) or "invalid request")


def http_message(request: Request, error: StarletteHTTPException) -> str:
    if error.status_code == 404:
        return "page not found"
    if error.status_code == 413 and MAX_BODY_SIZE_SCOPE_KEY in request.scope:
        limit = request.scope[MAX_BODY_SIZE_SCOPE_KEY]
        return f"the request body is too large: this site accepts at most {limit:,} bytes"
    return str(error.detail)


def answer_error(request: Request, error: Exception) -> Response:
    """The response for `error`, raised while answering `request`."""
    if isinstance(error, RequestValidationError):
        return error_response(request, 400, validation_message(error))
    if isinstance(error, PaperfeedError):
        return error_response(request, error.status_code, str(error))
    if isinstance(error, StarletteHTTPException):
        message = http_message(request, error)
        response = error_response(request, error.status_code, message)
        response.headers.update(error.headers or {})
        return response
    log.exception("%s %s failed", request.method, request.url.path, exc_info=error)
    return error_response(request, 500, INTERNAL)


class ErrorMappingRoute(APIRoute):
    """A route whose failures are answered by `answer_error` inside the route, so that even
    unexpected ones never reach the server's traceback page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:
                return answer_error(request, error)

        return route


def install_error_handlers(app: FastAPI) -> None:
    """The same answers for what fails outside a route (unknown paths, wrong methods)."""
    for kind in (StarletteHTTPException, RequestValidationError, PaperfeedError, Exception):
        app.add_exception_handler(kind, answer_error)
