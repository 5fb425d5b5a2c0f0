"""What a report is asked about: a site, a range of UTC days and the filters
the session search also has, where they apply (docs/api.md, "Insights").

The rollups are per UTC day: `from`/`to` select the days they fall in.
device applies to every figure; browser, os and country to the session
figures (totals, series and breakdowns: the rollup of sessions has them);
url / url_match to the page figures (pages, frustration, heatmaps)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from replay_server.db.search import path_matches
from replay_server.rollups.deltas import rollup_path

DAY_MS = 86_400_000
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class ReportFilters:
    site_id: int
    first_day: int  # UTC day numbers (ms // DAY_MS), inclusive
    last_day: int
    device: str = ""
    browser: str = ""
    os: str = ""
    country: str = ""
    url: str = ""
    url_match: str = "contains"

    @property
    def page_path(self) -> str:
        """The path `url` names: the rollups know paths, not whole URLs."""
        if "://" in self.url:
            return urlsplit(self.url).path or "/"
        return self.url

    @property
    def path(self) -> str:
        """The path as the rollups key it (a very long one is cut)."""
        return rollup_path(self.page_path)

    def path_matches(self, column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
        return path_matches(column, self.path, self.url_match)


def day_range(from_ms: int | None, to_ms: int | None, now_ms: int) -> tuple[int, int]:
    """The UTC days of [from, to]; by default the last DEFAULT_DAYS days up to today."""
    last = (to_ms if to_ms is not None else now_ms) // DAY_MS
    first = from_ms // DAY_MS if from_ms is not None else last - DEFAULT_DAYS + 1
    return first, last
