"""Demo mode: an organisation, a user and a site for this very server, and two
pages at /demo that record themselves. Only `replay-server demo` uses this; the
app that create_app() builds has no demo routes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.accounts import orgs as accounts
from replay_server.accounts.origins import normalise_origin
from replay_server.app import create_app
from replay_server.db.models import Site
from replay_server.settings import Settings

DEMO_DIR = Path(__file__).parent
DEMO_ORG = "Demo"
DEMO_EMAIL = "demo@example.com"
DEMO_SITE = "Demo site"
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    site_key: str


def demo_origins(settings: Settings) -> list[str]:
    """The server's own origin(s): http://HOST:PORT, the public URL, and both
    loopback names when listening on one of them."""
    origins = [f"http://{settings.host}:{settings.port}", settings.effective_public_url]
    if settings.host in LOOPBACK_NAMES:
        origins += [f"http://{name}:{settings.port}" for name in LOOPBACK_NAMES]
    parts = (urlsplit(o) for o in origins)
    return list(dict.fromkeys(normalise_origin(f"{p.scheme}://{p.netloc}") for p in parts))


async def prepare_demo(db: AsyncSession, settings: Settings) -> DemoLogin:
    """Ensure the demo org, user (with a new random password) and site."""
    org = await accounts.ensure_organisation(db, DEMO_ORG)
    password = secrets.token_urlsafe(12)
    user = await accounts.find_user(db, DEMO_EMAIL)
    if user is None:
        await accounts.create_user(db, DEMO_EMAIL, password, org_id=org.id, role="owner")
    else:
        await accounts.set_password(db, user, password)
        await accounts.set_membership(db, user.id, org.id, "owner")
    origins = demo_origins(settings)
    site = await db.scalar(select(Site).where(Site.org_id == org.id, Site.name == DEMO_SITE))
    if site is None:
        site = await accounts.create_site(db, org.id, DEMO_SITE, origins)
    else:
        site.allowed_origins = sorted(set(site.allowed_origins) | set(origins))
        await db.flush()
    return DemoLogin(email=DEMO_EMAIL, password=password, site_key=site.public_key)


def create_demo_app(settings: Settings, site_key: str) -> web.Application:
    """create_app(settings) plus GET /demo, /demo/second and /demo/demo.js."""
    app = create_app(settings)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(DEMO_DIR), autoescape=True)
    pages = {
        name: env.get_template(f"{name}.html").render(site_key=site_key)
        for name in ("index", "second")
    }

    def page(name: str) -> Handler:
        async def handler(_request: web.Request) -> web.Response:
            return web.Response(text=pages[name], content_type="text/html")

        return handler

    async def script(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(DEMO_DIR / "demo.js")

    app.router.add_get("/demo", page("index"), name="demo")
    app.router.add_get("/demo/second", page("second"), name="demo_second")
    app.router.add_get("/demo/demo.js", script, name="demo_js")
    return app
