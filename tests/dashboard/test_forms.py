"""Reading dashboard forms on a real server: text fields only, the first value
of a repeated name, bounded length; `?done=` flashes only known messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient

from replay_server.dashboard.forms import MAX_FIELD_CHARS, done_flash, read_form
from replay_server.errors import InvalidMessage

Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[..., Awaitable[Client]]
MESSAGES = {"saved": "Settings saved."}


async def form_server(aiohttp_client: ClientFactory) -> Client:
    async def post(request: web.Request) -> web.Response:
        try:
            fields = await read_form(request)
        except InvalidMessage as e:
            return web.json_response({"refused": e.code, "message": e.message}, status=400)
        return web.json_response(fields)

    async def get(request: web.Request) -> web.Response:
        return web.json_response({"flash": done_flash(request, MESSAGES)})

    app = web.Application()
    app.router.add_post("/", post)
    app.router.add_get("/", get)
    return await aiohttp_client(app)


async def test_text_fields_first_value_wins(aiohttp_client: ClientFactory) -> None:
    client = await form_server(aiohttp_client)
    response = await client.post("/", data=[("name", "first"), ("name", "second"), ("x", "")])
    assert await response.json() == {"name": "first", "x": ""}


async def test_a_file_upload_is_refused(aiohttp_client: ClientFactory) -> None:
    client = await form_server(aiohttp_client)
    data = aiohttp.FormData()
    data.add_field("name", "ok")
    data.add_field("logo", b"\x89PNG", filename="logo.png", content_type="image/png")
    response = await client.post("/", data=data)
    assert response.status == 400
    assert await response.json() == {
        "refused": "invalid_form",
        "message": "logo: a text field was expected",
    }


async def test_a_field_longer_than_the_bound_is_refused(aiohttp_client: ClientFactory) -> None:
    client = await form_server(aiohttp_client)
    fits = await client.post("/", data={"note": "x" * MAX_FIELD_CHARS})
    assert (await fits.json())["note"] == "x" * MAX_FIELD_CHARS
    too_long = await client.post("/", data={"note": "x" * (MAX_FIELD_CHARS + 1)})
    assert too_long.status == 400
    assert await too_long.json() == {"refused": "invalid_form", "message": "note: too long"}


async def test_done_flashes_only_known_messages(aiohttp_client: ClientFactory) -> None:
    client = await form_server(aiohttp_client)
    assert await (await client.get("/", params={"done": "saved"})).json() == {
        "flash": "Settings saved."
    }
    for query in ({"done": "<script>alert(1)</script>"}, {}):
        assert await (await client.get("/", params=query)).json() == {"flash": None}
