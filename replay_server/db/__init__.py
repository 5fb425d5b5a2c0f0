"""The database: SQLAlchemy 2 models (async; SQLite by default, PostgreSQL at
scale), the engine, migrations, group commits, session search, and scoping:
every read of tenant data goes through `scope` with the principal asking
(`principal`, `roles`).

May import only the contract modules at the root; everything that stores
or reads rows imports it."""
