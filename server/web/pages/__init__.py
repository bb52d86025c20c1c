"""The office site's pages, one module per page (or family of pages), each with
``add_routes(web, site)``; server/web/routes.py adds them in order over one ``Site``
(server/web/site.py)."""
