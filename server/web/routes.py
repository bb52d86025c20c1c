"""The office page's routes: thin over the services the CLI uses (server.coverage,
ServerCore's stations, server.web.accounts), rendering Jinja2 templates.

What every page shares (templates, session, CSRF-checked forms, the admin check, refusals
shown as pages) is server/web/site.py; each page's routes are in server/web/pages/.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles

from server.core import ServerCore
from server.web import kits
from server.web.kit_audit import uploaded_kit_audit
from server.web.pages import coverage, reports, signin
from server.web.pages import kits as kit_pages
from server.web.site import HERE, Site, add_error_handlers


def create_office_app(
    core: ServerCore, kit_audit: kits.KitAuditSource = uploaded_kit_audit
) -> FastAPI:
    site = Site(core, kit_audit)
    web = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    add_error_handlers(web, site)
    # In this order: /kit/baru before /kit/{station_id}.
    for page in (signin, coverage, kit_pages, reports):
        page.add_routes(web, site)

    @web.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    return web
