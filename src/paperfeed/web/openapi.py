"""The OpenAPI document of the JSON API and the feeds, and the Swagger UI that shows it.

The document covers the routes tagged ``api`` or ``feeds`` (the HTML pages and forms are not an
API). Malformed parameters are answered 400 with the error body (web/errors.py), never FastAPI's
422, so the 422 answers FastAPI documents by itself are taken out.

``/api/docs`` is Swagger UI from the ``swagger-ui-bundle-v2`` package, served by the app under
``/static/swagger-ui/``, started by ``/static/api-docs.js``: no CDN and no inline script, so it
works offline and under the site's Content-Security-Policy (web/headers.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from paperfeed.web.templating import templates

DOCS_PATH = "/api/docs"
OPENAPI_PATH = "/api/openapi.json"
SWAGGER_UI_PATH = "/static/swagger-ui"
API_TAGS = frozenset({"api", "feeds"})
SCHEMA_REF = "#/components/schemas/"
DESCRIPTION = (
    "The Hugging Face Hub compatible JSON API (``HfApi(endpoint=...)`` works against it) and "
    'the Atom feeds. Errors are ``{"error": message}`` with the status of the problem. '
    "AI assistants can use the same data through the MCP server at ``/mcp``."
)

docs_router = APIRouter(include_in_schema=False)


@docs_router.get(DOCS_PATH, response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI over the OpenAPI document."""
    return templates.TemplateResponse(
        request,
        "api_docs.html",
        {"openapi_url": OPENAPI_PATH, "assets": SWAGGER_UI_PATH},
    )


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The document of `app`'s API routes (made once, then kept)."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, description=DESCRIPTION, routes=app.routes
        )
        paths: dict[str, dict[str, Any]] = {}
        for path, operations in document.get("paths", {}).items():
            kept = {m: op for m, op in operations.items() if API_TAGS & set(op.get("tags", ()))}
            for operation in kept.values():
                operation["responses"].pop("422", None)
            if kept:
                paths[path] = kept
        document["paths"] = paths
        schemas = document.get("components", {}).get("schemas", {})
        used = _referenced_schemas(paths, schemas)
        for name in set(schemas) - used:
            del schemas[name]
        app.openapi_schema = document
    return app.openapi_schema


def _referenced_schemas(node: Any, schemas: dict[str, Any]) -> set[str]:
    """Names of the component schemas `node` refers to, directly or through other schemas."""
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
                name = ref.removeprefix(SCHEMA_REF)
                if name not in found and name in schemas:
                    found.add(name)
                    pending.append(schemas[name])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def install_api_docs(app: FastAPI) -> None:
    """Serve the OpenAPI document (`app` was made with ``openapi_url=OPENAPI_PATH`` and no
    ``docs_url``), Swagger UI's files and the docs page. Call it before mounting ``/static``
    (the first mount that matches a path answers it)."""
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    app.include_router(docs_router)
    app.mount(SWAGGER_UI_PATH, StaticFiles(directory=swagger_ui_path), name="swagger-ui")
