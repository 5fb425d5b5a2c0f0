"""The player: the page that replays a session (views.py) and the built player
assets (static/, from the TypeScript in ts/; scripts/build_js.mjs).

May import dashboard (page rendering), auth, db and the contract modules at
the root; routes.py imports it."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
