"""The insight reports over HTTP: a site's statistics and the heatmaps of one
of its pages (docs/api.md, "Insights"). Filters are parsed and validated like
the session search's; a bad value is 400 invalid_parameter."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from replay_server import keys
from replay_server.api.params import id_in_path
from replay_server.api.search_params import MAX_URL_LENGTH, parse_session_query
from replay_server.auth.context import require_principal
from replay_server.db import scope
from replay_server.errors import InvalidMessage
from replay_server.insights.filters import ReportFilters, day_range
from replay_server.insights.heatmap import click_map, scroll_map
from replay_server.insights.stats import site_stats
from replay_server.timeutil import now_ms

REPORT_FILTERS = ("from", "to", "device", "browser", "os", "country", "url", "url_match")
HEATMAP_KINDS = ("click", "scroll")
HEATMAP_DEVICES = ("desktop", "tablet", "mobile")
MAX_DAYS = 3 * 366


async def stats(request: web.Request) -> web.Response:
    site_id = await _own_site(request)
    filters = report_filters(site_id, request.query)
    return web.json_response(await site_stats(request.app[keys.DB], filters))


async def heatmap(request: web.Request) -> web.Response:
    site_id = await _own_site(request)
    query = request.query
    kind = _choice(query, "kind", HEATMAP_KINDS)
    device = _choice(query, "device", HEATMAP_DEVICES)
    if not query.get("url", "").strip():
        raise _invalid("url is required: the page (path or URL) to draw")
    base = report_filters(site_id, {k: v for k, v in query.items() if k != "device"})
    filters = ReportFilters(
        site_id=site_id,
        first_day=base.first_day,
        last_day=base.last_day,
        device=device,
        url=base.url,
        url_match="exact",
    )
    report = click_map if kind == "click" else scroll_map
    return web.json_response(await report(request.app[keys.DB], filters))


async def _own_site(request: web.Request) -> int:
    """The site in the path, if the caller may see it: checked before the
    parameters, so another organisation's site is 404 whatever it asks."""
    principal = require_principal(request)
    site_id = id_in_path(request, "site_id")
    async with request.app[keys.DB]() as db:
        await scope.get_site(db, principal, site_id)
    return site_id


def report_filters(site_id: int, query: Mapping[str, str]) -> ReportFilters:
    """The session search's parser validates the values both share."""
    parsed = parse_session_query({k: query[k] for k in REPORT_FILTERS if k in query})
    if len(parsed.url) > MAX_URL_LENGTH:
        raise _invalid(f"url is longer than {MAX_URL_LENGTH} characters")
    first, last = day_range(parsed.started_from, parsed.started_to, now_ms())
    if last - first + 1 > MAX_DAYS:
        raise _invalid(f"the range spans more than {MAX_DAYS} days")
    return ReportFilters(
        site_id=site_id,
        first_day=first,
        last_day=last,
        device=parsed.device,
        browser=parsed.browser,
        os=parsed.os,
        country=parsed.country,
        url=parsed.url,
        url_match=parsed.url_match,
    )


def _choice(query: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = query.get(name, "").strip() or choices[0]
    if value not in choices:
        raise _invalid(f"{name} must be one of {', '.join(choices)}")
    return value


def _invalid(message: str) -> InvalidMessage:
    return InvalidMessage(message, code="invalid_parameter")
