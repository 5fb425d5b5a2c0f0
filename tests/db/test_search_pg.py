"""PostgreSQL's URL matcher (db/search_pg.py) on a real database: a substring
finds exactly the site's sessions with a matching page view, as an id array
while few, as a semi-join past the cap; prefix and exact matches are not
"rare" substrings and go to the b-trees."""

from __future__ import annotations

import pytest
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from replay_server.db.engine import SessionFactory
from replay_server.db.models import RecordedSession
from replay_server.db.search import _page_matches, escape_like
from replay_server.db.search_pg import UrlMatcher
from tests.conftest import AddSession, Tenant

pytestmark = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)]
)


def matcher(db: AsyncSession, site_id: int, url: str, match: str) -> UrlMatcher:
    page_match = _page_matches("postgresql", url, match)
    return UrlMatcher(db, site_id, url, match, page_match, f"%{escape_like(url)}%")


async def ids_where(db: SessionFactory, condition: ColumnElement[bool]) -> set[str]:
    async with db() as s:
        return set(await s.scalars(select(RecordedSession.id).where(condition)))


async def test_a_substring_finds_the_sites_matching_sessions(
    db: SessionFactory, tenant: Tenant, other_tenant: Tenant, add_session: AddSession
) -> None:
    cart = await add_session(
        tenant.site_id, ["https://alice.example/", "https://alice.example/Cart"]
    )
    cart2 = await add_session(tenant.site_id, ["https://alice.example/cart?step=2"])
    await add_session(tenant.site_id, ["https://alice.example/home"])
    await add_session(other_tenant.site_id, ["https://bob.example/cart"])  # another site

    async with db() as s:
        rare = await matcher(s, tenant.site_id, "cart", "contains").rare(100)
        few = await matcher(s, tenant.site_id, "cart", "contains").condition(100)
        many = await matcher(s, tenant.site_id, "cart", "contains").condition(1)  # over the cap
        none = await matcher(s, tenant.site_id, "checkout", "contains").condition(100)
    assert rare is not None and few is not None and many is not None and none is not None
    assert await ids_where(db, rare) == await ids_where(db, few) == {cart, cart2}
    assert await ids_where(db, many) == {cart, cart2}
    assert await ids_where(db, none) == set()


async def test_prefix_and_exact_are_not_rare_substrings(
    db: SessionFactory, tenant: Tenant, add_session: AddSession
) -> None:
    shop = await add_session(tenant.site_id, ["https://alice.example/shop/a"])
    await add_session(tenant.site_id, ["https://alice.example/Shop/b"])  # case-sensitive
    # (the fixture stores no path: whole URLs here)
    async with db() as s:
        assert (
            await matcher(s, tenant.site_id, "https://alice.example/shop/", "prefix").rare(100)
            is None
        )
        prefix = await matcher(
            s, tenant.site_id, "https://alice.example/shop/", "prefix"
        ).condition(100)
        exact = await matcher(s, tenant.site_id, "https://alice.example/shop/a", "exact").condition(
            100
        )
    assert prefix is not None and exact is not None
    assert await ids_where(db, prefix) == await ids_where(db, exact) == {shop}
