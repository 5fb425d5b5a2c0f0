"""routes.py is the one place that lists the HTTP surface: the app has exactly
its routes, and every API route is documented in docs/api.md."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from replay_server.app import create_app
from replay_server.routes import add_routes, http_surface
from replay_server.settings import Settings

DOCS = Path(__file__).parent.parent / "docs" / "api.md"


def surface(app: web.Application) -> list[tuple[str, str, str | None]]:
    found = []
    for route in app.router.routes():
        resource = route.resource
        assert resource is not None
        info = resource.get_info()
        template = info.get("formatter") or info.get("path") or info.get("prefix") or ""
        found.append((route.method, template, resource.name))
    return found


def test_the_app_serves_exactly_the_listed_routes(tmp_path: Path) -> None:
    listed = web.Application()
    add_routes(listed)
    assert surface(create_app(Settings(data_dir=tmp_path))) == surface(listed)


def test_every_api_route_is_documented() -> None:
    docs = DOCS.read_text()
    api = [
        (r.method, r.path)
        for r in http_surface()
        if isinstance(r, web.RouteDef) and r.path.startswith("/api/")
    ]
    assert len(api) == 12
    for method, path in api:
        assert f"`{method} {path}`" in docs, (method, path)
