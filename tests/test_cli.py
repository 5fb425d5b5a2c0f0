from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner, Result

from replay_server.app import create_app
from replay_server.cli import main
from replay_server.demo import create_demo_app
from replay_server.settings import Settings
from tests.browser import Client, login
from tests.procs import start_server, stop_server


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def run(data_dir: Path, *args: str, stdin: str | None = None, **env: str) -> Result:
    environ = {"REPLAY_DATA_DIR": str(data_dir), **env}
    return CliRunner().invoke(main, list(args), input=stdin, env=environ)


def make_user(data_dir: Path, email: str = "ops@example.com", org: str = "Acme") -> None:
    result = run(data_dir, "create-user", email, "--org", org, "--password-stdin",
                 stdin="a long password\n")  # fmt: skip
    assert result.exit_code == 0, result.output


def test_db_upgrade_creates_the_database(data_dir: Path) -> None:
    result = run(data_dir, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert (data_dir / "replay.db").is_file()


def test_create_user_then_update_role_and_password(data_dir: Path) -> None:
    make_user(data_dir)
    result = run(data_dir, "create-user", "OPS@example.com", "--org", "Other", "--role",
                 "viewer", "--password-stdin", stdin="another password\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "updated user ops@example.com" in result.output
    assert "viewer of Other" in result.output


def test_create_user_refuses_a_short_password(data_dir: Path) -> None:
    result = run(data_dir, "create-user", "a@example.com", "--org", "Acme", "--password-stdin",
                 stdin="short\n")  # fmt: skip
    assert result.exit_code == 1
    assert result.output.strip() == "Error: password must be at least 8 characters"


def test_create_site_json(data_dir: Path) -> None:
    make_user(data_dir)
    origins = ["--origin", "HTTPS://Shop.Example:443/", "--origin", "http://localhost:3000"]
    result = run(data_dir, "create-site", "Shop", "--org", "Acme", *origins, "--json")
    assert result.exit_code == 0, result.output
    site = json.loads(result.output)
    assert set(site) == {"id", "name", "public_key", "origins"}
    assert site["name"] == "Shop"
    assert site["public_key"].startswith("pk_") and len(site["public_key"]) == 3 + 32
    assert site["origins"] == ["https://shop.example", "http://localhost:3000"]


def test_create_site_plain_output_has_the_snippet(data_dir: Path) -> None:
    make_user(data_dir)
    result = run(data_dir, "create-site", "Shop", "--org", "Acme", "--origin", "https://a.example")
    assert result.exit_code == 0, result.output
    assert "public key: pk_" in result.output
    assert '<script src="http://127.0.0.1:8321/recorder.js" data-site-key="pk_' in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "Acme", "--origin", "ftp://files.example"], "only http and https"),
        (["--org", "Acme", "--origin", "https://"], "expected scheme://host"),
        (["--org", "Nope", "--origin", "https://a.example"], "no organisation named 'Nope'"),
    ],
)
def test_create_site_errors_are_one_line(data_dir: Path, args: list[str], message: str) -> None:
    make_user(data_dir)
    result = run(data_dir, "create-site", "Shop", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_bad_settings_are_one_line_errors(data_dir: Path) -> None:
    result = run(data_dir, "db", "upgrade", REPLAY_PORT="eighty")
    assert result.exit_code == 1
    assert result.output.startswith("Error: REPLAY_PORT:")
    assert len(result.output.strip().splitlines()) == 1
    result = run(data_dir, "db", "upgrade", REPLAY_TRUSTED_PROXIES="10.0.0.0/8,nonsense")
    assert result.exit_code == 1 and "nonsense" in result.output


def test_create_token_for_unknown_user(data_dir: Path) -> None:
    result = run(data_dir, "create-token", "ghost@example.com")
    assert result.exit_code == 1
    assert "no user with email ghost@example.com" in result.output


async def test_created_token_works_against_the_api(
    data_dir: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    def setup() -> tuple[dict[str, object], dict[str, object]]:
        make_user(data_dir)
        site = run(data_dir, "create-site", "Shop", "--org", "Acme", "--origin",
                   "https://shop.example", "--json")  # fmt: skip
        token = run(data_dir, "create-token", "ops@example.com", "--json")
        assert token.exit_code == 0, token.output
        return json.loads(site.output), json.loads(token.output)

    site, token = await asyncio.to_thread(setup)
    assert token["user"] == "ops@example.com"
    assert str(token["token"]).startswith("rs_")
    client = await aiohttp_client(create_app(Settings.from_env({"REPLAY_DATA_DIR": str(data_dir)})))
    response = await client.get(
        "/api/v1/sites", headers={"Authorization": f"Bearer {token['token']}"}
    )
    assert response.status == 200
    assert [(s["id"], s["public_key"]) for s in (await response.json())["sites"]] == [
        (site["id"], site["public_key"])
    ]
    revoked = await asyncio.to_thread(
        run, data_dir, "revoke-token", "--token-stdin", stdin=f"{token['token']}\n"
    )
    assert revoked.exit_code == 0 and "revoked token" in revoked.output, revoked.output
    refused = await client.get(
        "/api/v1/sites", headers={"Authorization": f"Bearer {token['token']}"}
    )
    assert refused.status == 401
    unknown = await asyncio.to_thread(
        run, data_dir, "revoke-token", "--token-stdin", stdin="rs_nope\n"
    )
    assert unknown.exit_code == 1 and "no such API token" in unknown.output


async def test_demo_accounts_and_pages(
    data_dir: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    from replay_server.cli import run_db
    from replay_server.demo import prepare_demo

    settings = Settings.from_env({"REPLAY_DATA_DIR": str(data_dir)})
    first = await asyncio.to_thread(run_db, settings, lambda db: prepare_demo(db, settings))
    second = await asyncio.to_thread(run_db, settings, lambda db: prepare_demo(db, settings))
    assert first.site_key == second.site_key  # the same site on every start
    assert first.password != second.password  # a fresh password on every start

    client = await aiohttp_client(create_demo_app(settings, second.site_key))
    page = await client.get("/demo")
    text = await page.text()
    assert page.status == 200
    assert f'<script src="/recorder.js" data-site-key="{second.site_key}" async></script>' in text
    for needle in ('type="email"', 'type="password"', 'id="add-item"', 'href="/demo/second"'):
        assert needle in text
    assert "<script>" not in text  # no inline script: the CSP forbids it
    assert (await client.get("/demo/second")).status == 200
    script = await client.get("/demo/demo.js")
    assert script.status == 200 and "javascript" in script.content_type

    await login(client, "demo@example.com", second.password)
    sites = await (await client.get("/api/v1/sites")).json()
    (site,) = sites["sites"]
    assert site["public_key"] == second.site_key
    assert "http://127.0.0.1:8321" in site["origins"] and "http://localhost:8321" in site["origins"]


async def test_plain_app_has_no_demo_routes(client: Client) -> None:
    assert (await client.get("/demo")).status == 404


async def test_serve_migrates_and_serves(data_dir: Path) -> None:
    server = await asyncio.to_thread(start_server, data_dir, REPLAY_LOG_LEVEL="warning")
    try:
        async with aiohttp.ClientSession() as http, http.get(server.url + "/login") as response:
            assert response.status == 200
        assert (data_dir / "replay.db").is_file()
    finally:
        await asyncio.to_thread(stop_server, server)
    assert server.process.returncode == 0
    assert "Traceback" not in server.log(), server.log()
