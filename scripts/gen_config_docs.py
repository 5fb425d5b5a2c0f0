"""Regenerate docs/configuration.md from the Settings declaration:

.venv/bin/python scripts/gen_config_docs.py > docs/configuration.md
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from replay_server.settings import CONFIG_FILE_VAR, Settings

HEADER = f"""# Configuration

<!-- Generated from replay_server/settings.py by scripts/gen_config_docs.py; do not edit. -->

Every setting is read from a `REPLAY_*` environment variable. A TOML file named
by `{CONFIG_FILE_VAR}` may hold the same settings under their field names
(`port = 9000`, `data_dir = "/srv/replay"`); environment variables win over the
file. An unknown key or a value of the wrong type stops the server with a
one-line error. Sizes are in bytes, durations in seconds unless the name says
otherwise.

| Variable | Default | Description |
|---|---|---|
"""

FOOTER = """
## Examples

Local, everything under one directory:

```sh
REPLAY_DATA_DIR=/var/lib/replay replay-server serve
```

Behind a TLS-terminating reverse proxy on the same host:

```sh
REPLAY_PUBLIC_URL=https://replay.example.com \\
REPLAY_TRUSTED_PROXIES=127.0.0.1 \\
REPLAY_DATABASE_URL=postgresql+asyncpg://replay:secret@db/replay \\
replay-server serve --host 127.0.0.1 --port 8321
```

Dashboard cookies are marked `Secure` when the request arrived over https,
directly or as reported by `X-Forwarded-Proto` from one of
`REPLAY_TRUSTED_PROXIES`.
"""


def format_default(value: Any) -> str:
    if value == "":
        return "(empty)"
    if isinstance(value, Path) and not value.is_absolute():
        return f"`./{value}`"
    return f"`{value}`"


def escape(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    rows = [
        f"| `{env}` | {format_default(default)} | {escape(help_text)} |"
        for env, _name, default, help_text in Settings.fields_with_help()
    ]
    return HEADER + "\n".join(rows) + "\n" + FOOTER


if __name__ == "__main__":
    print(render(), end="")
