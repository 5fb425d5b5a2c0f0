"""The insights pages of a site: the overview (its default page) and the
heatmap of one page. The server renders the frame, the filter form and the
date range; the numbers come from the JSON API (`/api/v1/sites/{id}/stats`
and `/heatmap`, one contract for the dashboard and for scripts), fetched and
drawn by the bundled scripts (player/ts/insights/)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from replay_server import keys
from replay_server.api.params import id_in_path
from replay_server.api.search_params import DEVICES, parse_session_query
from replay_server.auth.context import require_principal
from replay_server.dashboard.render import render
from replay_server.db import scope
from replay_server.errors import InvalidMessage
from replay_server.timeutil import now_ms
from replay_server.web.middleware import PLAYER_CSP

DEFAULT_DAYS = 30
SESSION_FILTERS = ("device", "browser", "os", "country")
HEATMAP_KINDS = ("click", "scroll")
HEATMAP_DEVICES = ("desktop", "tablet", "mobile")
MAX_PATH_LENGTH = 2000


def date_range(query: Mapping[str, str], today: date) -> tuple[str, str]:
    """`from` and `to` as given, else DEFAULT_DAYS days (UTC) ending at `to`
    (a date) or today: the page names its range explicitly, so the charts,
    the API call and every link to the session list agree on the same days."""
    start = query.get("from", "").strip()
    end = query.get("to", "").strip()
    last = today
    if len(end) == 10:
        with contextlib.suppress(ValueError):  # not a date: the session search's parser says so
            last = date.fromisoformat(end)
    return (
        start or (last - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        end or today.isoformat(),
    )


def range_filters(query: Mapping[str, str], today: date) -> dict[str, str]:
    """The filters the insights pages share with the session search, checked
    by the session search's own parser (a bad value is a 400 page)."""
    start, end = date_range(query, today)
    values = {"from": start, "to": end}
    values.update({k: query.get(k, "").strip() for k in SESSION_FILTERS})
    parse_session_query(values)  # raises InvalidMessage on a bad date, device or country
    return values


QUICK_RANGES = (7, 30, 90)


def quick_ranges(params: Mapping[str, str], today: date) -> list[dict[str, Any]]:
    """Links to the last 7, 30 and 90 days with the other parameters kept."""
    links = []
    for days in QUICK_RANGES:
        start, end = (today - timedelta(days=days - 1)).isoformat(), today.isoformat()
        query = {k: v for k, v in params.items() if v and k not in ("from", "to")}
        links.append(
            {
                "label": f"Last {days} days",
                "query": urlencode({**query, "from": start, "to": end}),
                "current": params.get("from") == start and params.get("to") == end,
            }
        )
    return links


def today_utc() -> date:
    return datetime.fromtimestamp(now_ms() / 1000, tz=UTC).date()


def site_context(site_id: int, name: str) -> dict[str, Any]:
    return {"id": site_id, "name": name}


async def site_home(request: web.Request) -> web.Response:
    """`/sites/{id}`: a site opens on its overview (another organisation's
    site is 404 here too, not a redirect that confirms it exists)."""
    principal = require_principal(request)
    site_id = id_in_path(request, "site_id")
    async with request.app[keys.DB]() as db:
        await scope.get_site(db, principal, site_id)
    raise web.HTTPFound(request.app.router["overview"].url_for(site_id=str(site_id)))


async def overview_page(request: web.Request) -> web.Response:
    principal = require_principal(request)
    site_id = id_in_path(request, "site_id")
    today = today_utc()
    filters = range_filters(request.query, today)
    # A page narrows the page figures (top pages, frustration), as in the stats API.
    filters["url"] = page_url(request.query)
    async with request.app[keys.DB]() as db:
        site = await scope.get_site(db, principal, site_id)
    context = {
        "site": site_context(site.id, site.name),
        "nav": "overview",
        "filters": filters,
        "ranges": quick_ranges(filters, today),
        "devices": DEVICES,
        "query": urlencode({k: v for k, v in filters.items() if v}),
    }
    return render(request, "overview.html", f"Overview · {site.name}", context)


def page_url(query: Mapping[str, str]) -> str:
    """The page (path or URL) a report is narrowed to, "" for every page."""
    url = query.get("url", "").strip()
    if len(url) > MAX_PATH_LENGTH or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise InvalidMessage("url is not a page path or URL", code="invalid_parameter")
    return url


def heatmap_choices(query: Mapping[str, str]) -> dict[str, str]:
    """The page (path or URL), the kind of map and the device class drawn."""
    url = page_url(query)
    kind = query.get("kind", "").strip() or "click"
    device = query.get("device", "").strip() or "desktop"
    if kind not in HEATMAP_KINDS:
        raise InvalidMessage("kind must be click or scroll", code="invalid_parameter")
    if device not in HEATMAP_DEVICES:
        raise InvalidMessage(
            f"device must be one of {', '.join(HEATMAP_DEVICES)}", code="invalid_parameter"
        )
    return {"url": url, "kind": kind, "device": device}


async def heatmap_page(request: web.Request) -> web.Response:
    principal = require_principal(request)
    site_id = id_in_path(request, "site_id")
    choices = heatmap_choices(request.query)
    # The heatmaps are kept per device class (choices) and day only: no
    # browser, OS or country to filter by.
    today = today_utc()
    checked = range_filters(
        {"from": request.query.get("from", ""), "to": request.query.get("to", "")}, today
    )
    filters = {"from": checked["from"], "to": checked["to"]}
    async with request.app[keys.DB]() as db:
        site = await scope.get_site(db, principal, site_id)
    base = {k: v for k, v in {**filters, **choices}.items() if v}
    context = {
        "site": site_context(site.id, site.name),
        "nav": "overview",
        "filters": filters,
        "choices": choices,
        "kinds": HEATMAP_KINDS,
        "heatmap_devices": HEATMAP_DEVICES,
        "switch": {
            "kind": {k: urlencode({**base, "kind": k}) for k in HEATMAP_KINDS},
            "device": {d: urlencode({**base, "device": d}) for d in HEATMAP_DEVICES},
        },
        "overview_query": urlencode({k: v for k, v in filters.items() if v}),
        "ranges": quick_ranges(base, today),
    }
    title = f"Heatmap · {choices['url'] or site.name}"
    response = render(request, "heatmap.html", title, context)
    # The recorded page is rebuilt in a sandboxed iframe, exactly as on the
    # player page: its own images, styles and fonts may load (never scripts),
    # and no request it makes carries this page's address.
    response.headers["Content-Security-Policy"] = PLAYER_CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
