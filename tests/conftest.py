"""Shared fixtures: settings on a temporary data dir, a migrated database, the
app and a client, and account helpers (an organisation with an owner, a site and
an API token; recorded sessions inserted as rows)."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url

from replay_server import keys
from replay_server.accounts import orgs as accounts
from replay_server.app import create_app
from replay_server.db.engine import SessionFactory
from replay_server.db.migrate import upgrade
from replay_server.db.models import PageView, RecordedSession
from replay_server.settings import Settings
from replay_server.timeutil import now_ms
from tests.browser import Client
from tests.ci_plugin import pytest_runtest_makereport  # noqa: F401  (a hook: skips fail in CI)
from tests.ingest_server import IngestServer, Recorder, start_ingest_server
from tests.services import AWS_ENV, S3Server, moto_server, service_url

# Parametrize a module or test with this to run it on SQLite and PostgreSQL.
BOTH_DATABASES = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Credentials for moto, as the standard variables boto3 reads itself."""
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    return AWS_ENV


@pytest.fixture
def redis_url() -> str:
    return service_url("REPLAY_TEST_REDIS_URL")


@dataclass(frozen=True)
class Tenant:
    """An organisation with an owner (password and API token) and one site."""

    org_id: int
    org_name: str
    user_id: int
    email: str
    password: str
    site_id: int
    site_key: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


MakeTenant = Callable[..., Awaitable[Tenant]]
AddSession = Callable[..., Awaitable[str]]


@pytest.fixture
def backend() -> str:
    """The database under test; parametrize `backend` with "postgres" to run on PostgreSQL."""
    return "sqlite"


@pytest.fixture
async def database_url(backend: str) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield ""  # the default: SQLite in the data dir
        return
    async with fresh_postgres_database() as url:
        yield url


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty database on the server REPLAY_TEST_POSTGRES_URL names; dropped after."""
    base = service_url("REPLAY_TEST_POSTGRES_URL")
    name = f"replay_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(base)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(base).set(drivername="postgresql+asyncpg", database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
async def migrated_settings(settings: Settings) -> Settings:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, settings.effective_database_url)
    return settings


@pytest.fixture
def app(migrated_settings: Settings) -> web.Application:
    return create_app(migrated_settings)


@pytest.fixture
async def client(aiohttp_client: Callable[..., Awaitable[Client]], app: web.Application) -> Client:
    return await aiohttp_client(app)


@pytest.fixture
def db(client: Client) -> SessionFactory:
    factory: SessionFactory = client.app[keys.DB]
    return factory


@pytest.fixture
def make_tenant(db: SessionFactory) -> MakeTenant:
    async def make(name: str, *, role: str = "owner", origin: str = "") -> Tenant:
        email, password = f"{name}@example.com", f"password-of-{name}"
        async with db() as s:
            org = await accounts.ensure_organisation(s, f"Org {name}")
            user = await accounts.create_user(s, email, password, org_id=org.id, role=role)
            site = await accounts.create_site(
                s, org.id, f"Site {name}", [origin or f"https://{name}.example"]
            )
            token, _ = await accounts.create_api_token(s, email)
            await s.commit()
        return Tenant(org.id, org.name, user.id, email, password, site.id, site.public_key, token)

    return make


@pytest.fixture
async def tenant(make_tenant: MakeTenant) -> Tenant:
    return await make_tenant("alice")


@pytest.fixture
async def other_tenant(make_tenant: MakeTenant) -> Tenant:
    return await make_tenant("bob")


@pytest.fixture
def add_session(db: SessionFactory) -> AddSession:
    """Insert a recorded session with one page view per URL; return its id."""

    async def add(
        site_id: int, urls: list[str], *, started_ms: int | None = None, **fields: Any
    ) -> str:
        started = now_ms() - 600_000 if started_ms is None else started_ms
        session_id = fields.pop("id", None) or str(uuid.uuid4())
        values: dict[str, Any] = {
            "visitor_id": str(uuid.uuid4()),
            "last_seen_ms": started + 1000 * len(urls),
            "ended_ms": started + 1000 * len(urls),
            "duration_ms": 1000 * len(urls),
            "page_count": len(urls),
            "entry_url": urls[0] if urls else "",
        }
        values.update(fields)
        async with db() as s:
            s.add(RecordedSession(id=session_id, site_id=site_id, started_ms=started, **values))
            await s.flush()  # no ORM relationship orders the inserts: the FK needs the row
            for page, url in enumerate(urls):
                s.add(
                    PageView(
                        session_id=session_id,
                        page=page,
                        site_id=site_id,
                        url=url,
                        title=f"Page {page}",
                        started_ms=started + 1000 * page,
                        ended_ms=started + 1000 * (page + 1),
                    )
                )
            await s.commit()
        return session_id

    return add


# -- a live ingest server (tests/ingest_server.py) and a recorder for it ----------


@pytest.fixture
def ingest_workers(request: pytest.FixtureRequest) -> int:
    """REPLAY_INGEST_WORKERS of the `ingest` server: 1 (the default) unless a
    test parametrizes it indirectly, e.g. with 0 to prepare frames in-process."""
    return int(getattr(request, "param", 1))


@pytest.fixture
async def ingest(
    tmp_path: Path,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    database_url: str,
    ingest_workers: int,
) -> AsyncIterator[IngestServer]:
    """On SQLite, or on a fresh PostgreSQL database where a module parametrizes
    `backend` (tests.conftest.BOTH_DATABASES)."""
    yield await start_ingest_server(
        tmp_path / "data",
        aiohttp_server,
        database_url=database_url,
        ingest_workers=ingest_workers,
    )


@pytest.fixture
def recorder(ingest: IngestServer) -> Recorder:
    return Recorder(ingest.ws_url, ingest.site_key)
