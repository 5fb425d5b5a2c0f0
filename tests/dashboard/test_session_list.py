"""The dashboard's session list: what a row shows, the filter form filled
from the query string, clean shareable links, bad filters."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.browser import Client, login
from tests.conftest import AddSession, Tenant

HTML = {"Accept": "text/html,application/xhtml+xml"}


async def test_row_shows_metadata_and_counts(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    sid = await add_session(
        tenant.site_id,
        ["https://a.example/checkout", "https://a.example/done"],
        browser="Firefox",
        browser_version="121",
        os="Ubuntu",
        device="desktop",
        country="DE",
        click_count=17,
        error_count=4,
        rage_click_count=2,
    )
    await login(client, tenant.email, tenant.password)
    text = await (await client.get(f"/sites/{tenant.site_id}/sessions")).text()
    row = text[text.index(f'data-session-id="{sid}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/sessions/{sid}"' in row
    assert "https://a.example/checkout" in row and "2 pages" in row
    assert "Firefox 121" in row and "Ubuntu" in row and ">desktop<" in row
    assert ">DE<" in row
    assert '<td class="num">17</td>' in row
    assert '<td class="num count-bad">4</td>' in row
    assert '<td class="num count-bad">2</td>' in row


async def test_filter_form_is_filled_from_the_query_string(
    client: Client, tenant: Tenant, add_session: AddSession
) -> None:
    await login(client, tenant.email, tenant.password)
    query = {
        "url": "/checkout",
        "url_match": "prefix",
        "browser": "Chrome",
        "device": "mobile",
        "has_rage_clicks": "true",
        "min_duration": "30",
        "from": "2026-11-01",
        "sort": "longest",
    }
    response = await client.get(f"/sites/{tenant.site_id}/sessions", params=query)
    text = await response.text()
    assert response.status == 200
    assert 'value="/checkout"' in text and 'value="Chrome"' in text
    assert '<option value="prefix" selected>' in text
    assert '<option value="mobile" selected>' in text
    assert '<option value="longest" selected>' in text
    assert 'name="min_duration" id="filter-min_duration" value="30"' in text
    assert 'type="date" name="from" id="filter-from" value="2026-11-01"' in text
    assert '<details class="search-more" open>' in text
    assert "No sessions match" in text


async def test_empty_form_fields_redirect_to_a_clean_link(client: Client, tenant: Tenant) -> None:
    await login(client, tenant.email, tenant.password)
    path = f"/sites/{tenant.site_id}/sessions"
    response = await client.get(
        path + "?url=cart&url_match=contains&browser=&os=&live=&sort=newest",
        allow_redirects=False,
    )
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == path
    assert parse_qs(location.query) == {
        "url": ["cart"],
        "url_match": ["contains"],
        "sort": ["newest"],
    }
    everything_empty = await client.get(path + "?url=&browser=", allow_redirects=False)
    assert everything_empty.headers["Location"] == path


async def test_bad_filter_is_a_400_page(client: Client, tenant: Tenant) -> None:
    await login(client, tenant.email, tenant.password)
    response = await client.get(
        f"/sites/{tenant.site_id}/sessions", params={"device": "fridge"}, headers=HTML
    )
    assert response.status == 400
    assert "device must be one of" in await response.text()


async def test_the_clicked_filter_shows_as_a_chip_that_keeps_it_and_can_remove_it(
    client: Client, tenant: Tenant
) -> None:
    await login(client, tenant.email, tenant.password)
    query = "clicked=button%23buy&url=%2Fcart&url_match=exact"
    text = await (await client.get(f"/sites/{tenant.site_id}/sessions?{query}")).text()
    chip = text[text.index('id="clicked-filter"') :]
    chip = chip[: chip.index("</p>")]
    assert '<input type="hidden" name="clicked" value="button#buy">' in chip  # kept on submit
    assert "<code" in chip and "button#buy</code> on /cart" in chip
    assert f'href="/sites/{tenant.site_id}/sessions?url=%2Fcart&amp;url_match=exact"' in chip
    plain = await (await client.get(f"/sites/{tenant.site_id}/sessions")).text()
    assert 'id="clicked-filter"' not in plain
