"""The insight rollup tables (revision 0005; rollups/ writes them, insights/
reads them): counts per site and UTC day, kept up to date as chunks are
recorded, and which sessions clicked which element. Counts only: no visitor id."""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from replay_server.db.base import Base


def _site_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)


def _count() -> Mapped[int]:
    return mapped_column(BigInteger, default=0, server_default="0")


# Insight rollups (revision 0005; insights/): counts per site and UTC day, kept
# up to date as chunks are recorded. Counts only: no visitor or session id.


class InsightDay(Base):
    """Sessions of a day, by the session's device, client, country and referrer."""

    __tablename__ = "insight_days"

    site_id: Mapped[int] = _site_fk()
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    device: Mapped[str] = mapped_column(String(20), primary_key=True)
    browser: Mapped[str] = mapped_column(String(100), primary_key=True)
    os: Mapped[str] = mapped_column(String(100), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    referrer: Mapped[str] = mapped_column(String(255), primary_key=True)
    sessions: Mapped[int] = _count()
    visitors: Mapped[int] = _count()  # distinct within the day and this row's key
    page_views: Mapped[int] = _count()
    bounces: Mapped[int] = _count()
    duration_ms: Mapped[int] = _count()


class InsightPage(Base):
    """Page views of a path on a day, by device class."""

    __tablename__ = "insight_pages"

    site_id: Mapped[int] = _site_fk()
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    device: Mapped[str] = mapped_column(String(20), primary_key=True)
    views: Mapped[int] = _count()
    sessions: Mapped[int] = _count()
    visitors: Mapped[int] = _count()
    entries: Mapped[int] = _count()
    exits: Mapped[int] = _count()
    bounces: Mapped[int] = _count()
    time_ms: Mapped[int] = _count()
    clicks: Mapped[int] = _count()
    rage_clicks: Mapped[int] = _count()
    dead_clicks: Mapped[int] = _count()
    error_clicks: Mapped[int] = _count()
    fold_sum: Mapped[int] = _count()  # viewport heights, for the average fold
    fold_views: Mapped[int] = _count()

    __table_args__ = (Index("ix_insight_pages_site_path", "site_id", "path", "device", "day"),)


class InsightElement(Base):
    """Clicks on one element (its selector) of a path on a day, by device class."""

    __tablename__ = "insight_elements"

    site_id: Mapped[int] = _site_fk()
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    device: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    selector: Mapped[str] = mapped_column(Text, primary_key=True)
    clicks: Mapped[int] = _count()
    rage_clicks: Mapped[int] = _count()
    dead_clicks: Mapped[int] = _count()
    error_clicks: Mapped[int] = _count()
    x_sum: Mapped[int] = _count()  # page coordinates, for the mean click position
    y_sum: Mapped[int] = _count()

    __table_args__ = (
        Index(  # the overview's most frustrating elements: the rows with any, covered
            "ix_insight_elements_frustrated",
            "site_id",
            "day",
            "path",
            "selector",
            "rage_clicks",
            "dead_clicks",
            "error_clicks",
            sqlite_where=text("rage_clicks + dead_clicks + error_clicks > 0"),
            postgresql_where=text("rage_clicks + dead_clicks + error_clicks > 0"),
        ),
    )


class InsightPoint(Base):
    """Clicks in one 16 px cell of the page (page coordinates) of a path on a day."""

    __tablename__ = "insight_points"

    site_id: Mapped[int] = _site_fk()
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    device: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    cell_x: Mapped[int] = mapped_column(Integer, primary_key=True)
    cell_y: Mapped[int] = mapped_column(Integer, primary_key=True)
    clicks: Mapped[int] = _count()


class InsightScroll(Base):
    """Page views of a path on a day whose deepest scroll reached `depth` percent."""

    __tablename__ = "insight_scrolls"

    site_id: Mapped[int] = _site_fk()
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    device: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    depth: Mapped[int] = mapped_column(Integer, primary_key=True)
    views: Mapped[int] = _count()


class ElementClick(Base):
    """Which sessions clicked which element of a page view (the `clicked=`
    session filter). Deleted with its session."""

    __tablename__ = "element_clicks"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    page: Mapped[int] = mapped_column(Integer, primary_key=True)
    selector: Mapped[str] = mapped_column(Text, primary_key=True)
    site_id: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    clicks: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_element_clicks_site_selector", "site_id", "selector", "path", "session_id"),
    )


INSIGHT_DAYS = cast(Table, InsightDay.__table__)
INSIGHT_PAGES = cast(Table, InsightPage.__table__)
INSIGHT_ELEMENTS = cast(Table, InsightElement.__table__)
INSIGHT_POINTS = cast(Table, InsightPoint.__table__)
INSIGHT_SCROLLS = cast(Table, InsightScroll.__table__)
ELEMENT_CLICKS = cast(Table, ElementClick.__table__)
# The per-day insight rollups (counts only), e.g. for retention and rebuilds.
INSIGHT_ROLLUPS = (INSIGHT_DAYS, INSIGHT_PAGES, INSIGHT_ELEMENTS, INSIGHT_POINTS, INSIGHT_SCROLLS)
