"""Rendering of dashboard pages: every page gets `user_email`, `csrf_token` and
`title`; render_error is how the edge shows an error to a browser."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from replay_server.auth.context import get_principal
from replay_server.auth.csrf import csrf_token

log = logging.getLogger(__name__)


def base_context(request: web.Request, title: str) -> dict[str, Any]:
    principal = get_principal(request)
    return {
        "user_email": None if principal is None else principal.email,
        "csrf_token": csrf_token(request),
        "title": title,
    }


def render(
    request: web.Request,
    template: str,
    title: str,
    context: Mapping[str, Any],
    status: int = 200,
) -> web.Response:
    response: web.Response = aiohttp_jinja2.render_template(
        template, request, {**base_context(request, title), **context}, status=status
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect(location: str) -> web.Response:
    """303 See Other: after a POST, the browser GETs `location`."""
    return web.Response(status=303, headers={"Location": location})


def render_error(request: web.Request, status: int, message: str) -> web.Response:
    try:
        return render(
            request, "error.html", "Error", {"status": status, "message": message}, status
        )
    except (jinja2.TemplateError, web.HTTPException):
        # No template engine or a broken template: still answer, in plain text.
        log.exception("cannot render the error page")
        return web.Response(status=status, text=f"{status}: {message}\n")
