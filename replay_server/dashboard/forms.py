"""Reading dashboard forms: text fields only (a file upload is never expected),
first value of each name, bounded length."""

from __future__ import annotations

from aiohttp import web

from replay_server.errors import InvalidMessage

MAX_FIELD_CHARS = 20_000


async def read_form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    fields: dict[str, str] = {}
    for name, value in form.items():
        if not isinstance(value, str):
            raise InvalidMessage(f"{name}: a text field was expected", code="invalid_form")
        if len(value) > MAX_FIELD_CHARS:
            raise InvalidMessage(f"{name}: too long", code="invalid_form")
        fields.setdefault(name, value)
    return fields


def done_flash(request: web.Request, messages: dict[str, str]) -> str | None:
    """The message for `?done=KEY` after a redirect (only known keys, never echoed)."""
    return messages.get(request.query.get("done", ""))
