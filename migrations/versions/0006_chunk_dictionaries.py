"""per-site zstd dictionaries for chunks (chunk format v2)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 23:50:00

Issue 17: chunks are compressed with a zstd dictionary trained on their site's
own chunks (replay_server/chunks/dictionaries.py). chunk_dictionaries holds
each training's dictionary; chunks.dictionary_id names the one a chunk's blob
needs (0: none, as every chunk stored before this revision).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chunk_dictionaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("sample_count", sa.Integer(), nullable=False),
        sa.Column("sample_bytes", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_chunk_dictionaries_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chunk_dictionaries")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_chunk_dictionaries_site_id"), "chunk_dictionaries", ["site_id"], unique=False
    )
    op.add_column(
        "chunks",
        sa.Column("dictionary_id", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_index(
        "ix_chunks_dictionary",
        "chunks",
        ["dictionary_id"],
        unique=False,
        sqlite_where=sa.text("dictionary_id > 0"),
        postgresql_where=sa.text("dictionary_id > 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_chunks_dictionary", table_name="chunks")
    op.drop_column("chunks", "dictionary_id")
    op.drop_index(op.f("ix_chunk_dictionaries_site_id"), table_name="chunk_dictionaries")
    op.drop_table("chunk_dictionaries")
