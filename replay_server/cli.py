"""The `replay-server` command line (DESIGN.md section 6): the only place that
reads argv. Settings come from Settings.from_env(); domain errors become a
one-line message and a non-zero exit, never a traceback."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from aiohttp import web
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.accounts import orgs as accounts
from replay_server.accounts.tokens import revoke_api_token_value
from replay_server.app import create_app
from replay_server.db.migrate import upgrade
from replay_server.db.principal import ROLES
from replay_server.errors import NotFound, ReplayError
from replay_server.logs import check_logging_settings, configure_logging
from replay_server.proxies import parse_trusted_proxies
from replay_server.settings import Settings
from replay_server.storage.local import make_private_dir
from replay_server.stores import open_database
from replay_server.timeutil import now_ms
from replay_server.web import runner

T = TypeVar("T")
PRIVATE_UMASK = 0o077  # data files 0600, directories 0700 (docs/deployment.md)
GC_THRESHOLDS = (50_000, 50, 100)  # DESIGN.md section 9: p99 ack 248 ms -> 11 ms


class _ReportingGroup(click.Group):
    """Turns expected failures of any subcommand into `Error: <one line>`, exit 1.
    Runs it with umask 077: whatever any command writes (database, blobs, spool,
    exports) is private to the service user, as the modules that create data
    files also ask themselves (restored after, for callers in the same process)."""

    def invoke(self, ctx: click.Context) -> Any:
        old_umask = os.umask(PRIVATE_UMASK)
        try:
            return super().invoke(ctx)
        except ReplayError as e:
            raise click.ClickException(e.message) from e
        except (SQLAlchemyError, CommandError, OSError) as e:
            first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise click.ClickException(first_line) from e
        finally:
            os.umask(old_umask)


@click.group(cls=_ReportingGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """replay-server: self-hosted session replay."""


def load_settings(host: str | None = None, port: int | None = None) -> Settings:
    settings = Settings.from_env()
    if host is not None:
        settings = settings.replace(host=host)
    if port is not None:
        settings = settings.replace(port=port)
    check_logging_settings(settings)
    parse_trusted_proxies(settings.trusted_proxies)  # fail now, not on the first request
    return settings


def migrate(settings: Settings) -> None:
    make_private_dir(settings.data_dir)
    upgrade(settings.effective_database_url)


def run_db(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Migrate, then run `work` in one committed transaction."""
    migrate(settings)

    async def run() -> T:
        async with open_database(settings) as database, database.sessions() as db:
            result = await work(db)
            await db.commit()
            return result

    return asyncio.run(run())


def run_server(settings: Settings, app: web.Application) -> None:
    app.on_startup.append(_tune_gc)  # runs after every cleanup_ctx has started
    runner.run_server(settings, app)


async def _tune_gc(_app: web.Application) -> None:
    # Long-lived start-up objects leave the collector's view; fewer, larger
    # young-generation collections keep ack latency low under many connections.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


host_option = click.option("--host", default=None, help="Listen address [REPLAY_HOST].")
port_option = click.option("--port", type=int, default=None, help="Listen port [REPLAY_PORT].")


@main.command()
@host_option
@port_option
def serve(host: str | None, port: int | None) -> None:
    """Migrate the database, then serve."""
    settings = load_settings(host, port)
    configure_logging(settings)
    migrate(settings)
    run_server(settings, create_app(settings))


@main.command()
@host_option
@port_option
def demo(host: str | None, port: int | None) -> None:
    """Serve with a demo organisation, user, site and a page at /demo that records itself."""
    from replay_server.demo import create_demo_app, prepare_demo

    settings = load_settings(host, port)
    configure_logging(settings)
    login = run_db(settings, lambda db: prepare_demo(db, settings))
    base = settings.effective_public_url
    click.echo(
        f"\nreplay-server demo\n"
        f"  demo page:  {base}/demo   (click around, then watch it in the dashboard)\n"
        f"  dashboard:  {base}/\n"
        f"  login:      {login.email}\n"
        f"  password:   {login.password}   (new on every start)\n"
    )
    run_server(settings, create_demo_app(settings, login.site_key))


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = load_settings()
    migrate(settings)
    click.echo("database is up to date")


@main.command("create-user")
@click.argument("email")
@click.option("--org", required=True, help="Organisation name (created if missing).")
@click.option("--role", type=click.Choice(ROLES), default="owner", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def create_user(email: str, org: str, role: str, password_stdin: bool) -> None:
    """Create a user with a role in an organisation (or update an existing one)."""
    settings = load_settings()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(db: AsyncSession) -> str:
        organisation = await accounts.ensure_organisation(db, org)
        user = await accounts.find_user(db, email)
        if user is None:
            user = await accounts.create_user(
                db, email, password, org_id=organisation.id, role=role
            )
            return f"created user {user.email} ({role} of {organisation.name})"
        await accounts.set_password(db, user, password)
        await accounts.set_membership(db, user.id, organisation.id, role)
        return f"updated user {user.email}: password set, {role} of {organisation.name}"

    click.echo(run_db(settings, work))


@main.command("create-site")
@click.argument("name")
@click.option("--org", required=True, help="Name of an existing organisation.")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help="Allowed origin, scheme://host[:port]; repeat for several.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def create_site(name: str, org: str, origins: tuple[str, ...], as_json: bool) -> None:
    """Create a site and print its id and public key."""
    settings = load_settings()

    async def work(db: AsyncSession) -> dict[str, Any]:
        organisation = await accounts.find_organisation(db, org)
        if organisation is None:
            raise NotFound(f"no organisation named {org!r} (create-user --org creates one)")
        site = await accounts.create_site(db, organisation.id, name, list(origins))
        return {
            "id": site.id,
            "name": site.name,
            "public_key": site.public_key,
            "origins": site.allowed_origins,
        }

    site = run_db(settings, work)
    if as_json:
        click.echo(json.dumps(site))
        return
    click.echo(f"site {site['id']}: {site['name']}")
    click.echo(f"public key: {site['public_key']}")
    click.echo(f"origins: {', '.join(site['origins'])}")
    click.echo(
        f"snippet: {accounts.site_snippet(settings.effective_public_url, site['public_key'])}"
    )


@main.command("create-token")
@click.argument("email")
@click.option("--name", default="", help="A label for the token.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def create_token(email: str, name: str, as_json: bool) -> None:
    """Create an API token for a user; it is shown only this once."""
    settings = load_settings()

    async def work(db: AsyncSession) -> tuple[str, str]:
        token, user = await accounts.create_api_token(db, email, name)
        return token, user.email

    token, user_email = run_db(settings, work)
    click.echo(json.dumps({"token": token, "user": user_email}) if as_json else token)


@main.command("revoke-token")
@click.option("--token-stdin", is_flag=True, help="Read the token from stdin.")
def revoke_token(token_stdin: bool) -> None:
    """Revoke an API token (given in clear); it stops working at once."""
    settings = load_settings()
    if token_stdin:
        token = sys.stdin.readline().strip()
    else:
        token = click.prompt("Token", hide_input=True).strip()

    async def work(db: AsyncSession) -> str:
        row = await revoke_api_token_value(db, token)
        return f"revoked token {row.id}" + (f" ({row.name})" if row.name else "")

    click.echo(run_db(settings, work))


@main.command()
@click.option("--dry-run", is_flag=True, help="Only report what would be deleted.")
def retention(dry_run: bool) -> None:
    """Delete sessions older than their site's retention_days (one sweep)."""
    from replay_server.privacy.commands import run_retention

    settings = load_settings()
    migrate(settings)
    click.echo(asyncio.run(run_retention(settings, now_ms(), dry_run)))


@main.command("delete-visitor")
@click.argument("site_id", type=int)
@click.argument("visitor_id", type=click.UUID)
def delete_visitor(site_id: int, visitor_id: uuid.UUID) -> None:
    """Delete every session of one visitor id on one site, blobs included."""
    from replay_server.privacy.commands import run_delete_visitor

    settings = load_settings()
    migrate(settings)
    click.echo(asyncio.run(run_delete_visitor(settings, site_id, str(visitor_id))))


@main.group()
def insights() -> None:
    """The insight reports' rollups (overview statistics, heatmaps)."""


@insights.command("rebuild")
@click.option("--site", "site_id", type=int, default=None, help="Only this site.")
def insights_rebuild(site_id: int | None) -> None:
    """Count the rollups again from the stored chunks (run it with the servers stopped)."""
    from replay_server.insights.commands import run_rebuild

    settings = load_settings()
    migrate(settings)
    click.echo(asyncio.run(run_rebuild(settings, site_id)))
