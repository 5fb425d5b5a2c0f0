"""Who uses the service: organisations, users, members and their roles, sites
with their typed settings (SiteSettings) and allowed origins, API tokens.

May import db, storage and the contract modules at the root; the edge (web,
api, dashboard) and the ingest path import it."""
