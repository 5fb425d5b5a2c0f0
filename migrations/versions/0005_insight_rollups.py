"""insight rollups: per-day counts of sessions, pages, elements, click cells and scroll depths

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 19:43:29

Issue 16: the aggregated reports read rollup tables kept up to date as chunks
are recorded (replay_server/insights/). Page views and sessions get the
columns saying what the rollups counted of them so far; element_clicks holds
which session clicked which element (the `clicked=` session filter). Existing
data is counted by `replay-server insights rebuild`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insight_days",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=20), nullable=False),
        sa.Column("browser", sa.String(length=100), nullable=False),
        sa.Column("os", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("referrer", sa.String(length=255), nullable=False),
        sa.Column("sessions", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("visitors", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("page_views", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("bounces", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_insight_days_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "site_id",
            "day",
            "device",
            "browser",
            "os",
            "country",
            "referrer",
            name=op.f("pk_insight_days"),
        ),
    )
    op.create_table(
        "insight_elements",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("device", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("selector", sa.Text(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("rage_clicks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("dead_clicks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("error_clicks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("x_sum", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("y_sum", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_insight_elements_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "path", "device", "day", "selector", name=op.f("pk_insight_elements")
        ),
    )
    op.create_index(
        "ix_insight_elements_frustrated",
        "insight_elements",
        ["site_id", "day", "path", "selector", "rage_clicks", "dead_clicks", "error_clicks"],
        sqlite_where=sa.text("rage_clicks + dead_clicks + error_clicks > 0"),
        postgresql_where=sa.text("rage_clicks + dead_clicks + error_clicks > 0"),
    )
    op.create_table(
        "insight_pages",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("device", sa.String(length=20), nullable=False),
        sa.Column("views", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("sessions", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("visitors", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("entries", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("exits", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("bounces", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("time_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("clicks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("rage_clicks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("dead_clicks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("error_clicks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fold_sum", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fold_views", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_insight_pages_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", "day", "path", "device", name=op.f("pk_insight_pages")),
    )
    with op.batch_alter_table("insight_pages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_insight_pages_site_path", ["site_id", "path", "device", "day"], unique=False
        )

    op.create_table(
        "insight_points",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("device", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("cell_x", sa.Integer(), nullable=False),
        sa.Column("cell_y", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_insight_points_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "path", "device", "day", "cell_x", "cell_y", name=op.f("pk_insight_points")
        ),
    )
    op.create_table(
        "insight_scrolls",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("device", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("views", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_insight_scrolls_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "path", "device", "day", "depth", name=op.f("pk_insight_scrolls")
        ),
    )
    op.create_table(
        "element_clicks",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("selector", sa.Text(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_element_clicks_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "page", "selector", name=op.f("pk_element_clicks")),
    )
    with op.batch_alter_table("element_clicks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_element_clicks_site_selector",
            ["site_id", "selector", "path", "session_id"],
            unique=False,
        )

    # Plain ADD COLUMN (no batch copy): a rebuilt page_views would lose the
    # FTS5 triggers of 0002.
    for column in (
        sa.Column("counted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("event_first_ms", sa.BigInteger(), nullable=True),
        sa.Column("event_last_ms", sa.BigInteger(), nullable=True),
        sa.Column("time_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("scroll_px", sa.Integer(), server_default="0", nullable=False),
        sa.Column("page_height", sa.Integer(), server_default="0", nullable=False),
        sa.Column("scroll_pct", sa.Integer(), server_default="-1", nullable=False),
        sa.Column("viewport_w", sa.Integer(), nullable=True),
        sa.Column("viewport_h", sa.Integer(), nullable=True),
    ):
        op.add_column("page_views", column)
    op.add_column(
        "sessions", sa.Column("counted_pages", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("sessions", "counted_pages")
    for name in (
        "viewport_h", "viewport_w", "scroll_pct", "page_height", "scroll_px", "time_ms",
        "event_last_ms", "event_first_ms", "counted",
    ):  # fmt: skip
        op.drop_column("page_views", name)

    with op.batch_alter_table("element_clicks", schema=None) as batch_op:
        batch_op.drop_index("ix_element_clicks_site_selector")

    op.drop_table("element_clicks")
    op.drop_table("insight_scrolls")
    op.drop_table("insight_points")
    with op.batch_alter_table("insight_pages", schema=None) as batch_op:
        batch_op.drop_index("ix_insight_pages_site_path")

    op.drop_table("insight_pages")
    op.drop_table("insight_elements")
    op.drop_table("insight_days")
