"""Site settings (admins): name, origins, privacy and recording settings, the
snippet, and rotating the site key. Saved settings reach recorders at their
next hello: the ingest path's site cache forgets the site at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from replay_server import keys
from replay_server.accounts.orgs import rotate_site_key, site_snippet
from replay_server.accounts.site_settings import (
    BOOL_FIELDS,
    IP_MODES,
    SettingsError,
    SiteSettings,
    complete_stored,
    parse_site_form,
)
from replay_server.api.params import id_in_path
from replay_server.auth.context import require_principal
from replay_server.dashboard.forms import done_flash, read_form
from replay_server.dashboard.render import redirect, render
from replay_server.db import scope
from replay_server.db.models import Site

FLASH = {
    "saved": "Settings saved.",
    "rotated": "A new site key was issued; the old key no longer works.",
}


def _form_values(site: Site) -> dict[str, Any]:
    s = SiteSettings.from_stored(site.settings)
    return {
        **s.stored(),
        "name": site.name,
        "origins": "\n".join(site.allowed_origins),
        "sample_percent": f"{s.sample_rate * 100:g}",
        "url_params_allow": "\n".join(s.url_params_allow),
        "url_params_deny": "\n".join(s.url_params_deny),
    }


def _page(
    request: web.Request,
    site: Site,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    status: int = 200,
) -> web.Response:
    public_url = request.app[keys.SETTINGS].effective_public_url
    context = {
        "site": {"id": site.id, "name": site.name, "public_key": site.public_key},
        "snippet": site_snippet(public_url, site.public_key),
        "values": values,
        "errors": errors,
        "ip_modes": IP_MODES,
        "flash": done_flash(request, FLASH),
    }
    return render(request, "site_settings.html", f"Settings · {site.name}", context, status)


async def settings_page(request: web.Request) -> web.Response:
    principal = require_principal(request)
    async with request.app[keys.DB]() as db:
        site = await scope.get_site(db, principal, id_in_path(request, "site_id"), role="admin")
    return _page(request, site, _form_values(site), {})


async def settings_submit(request: web.Request) -> web.Response:
    principal = require_principal(request)
    site_id = id_in_path(request, "site_id")
    form = await read_form(request)
    async with request.app[keys.DB]() as db:
        site = await scope.get_site(db, principal, site_id, role="admin")
        try:
            changes = parse_site_form(form, complete_stored(site.settings))
        except SettingsError as e:
            values = {**_form_values(site), **form}
            for field in BOOL_FIELDS:
                values[field] = field in form
            return _page(request, site, values, e.errors, status=400)
        site.name = changes.name
        site.allowed_origins = changes.origins
        site.settings = changes.settings
        public_key = site.public_key
        await db.commit()
    request.app[keys.SITES].forget(public_key)
    return redirect(f"/sites/{site_id}/settings?done=saved")


async def rotate_key(request: web.Request) -> web.Response:
    principal = require_principal(request)
    site_id = id_in_path(request, "site_id")
    async with request.app[keys.DB]() as db:
        site = await scope.get_site(db, principal, site_id, role="admin")
        old_key = await rotate_site_key(db, site)
        await db.commit()
    request.app[keys.SITES].forget(old_key)
    return redirect(f"/sites/{site_id}/settings?done=rotated")
