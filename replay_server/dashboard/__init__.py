"""The server-rendered pages other than the player: login, sites and their
session lists (search), site settings, organisation members, the user's own
account and tokens, and the page rendering (templates/, shared with the
player page and the opt-out page) with its error pages.

May import auth, accounts, db, the API's parameter parsing and the contract
modules at the root; routes.py and the player import it."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

TEMPLATES_DIR = Path(__file__).parent / "templates"


def setup_templates(app: web.Application) -> None:
    """The pages' templates (the dashboard's, the player's, the opt-out page's);
    routes.py lists the URLs."""
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
