"""Every URL of the HTTP surface (DESIGN.md section 7, docs/api.md), in one
list. Handlers live with their concern; this module only says which URL and
method reach which handler. The demo adds its own pages (demo/__init__.py)."""

from __future__ import annotations

from aiohttp import web

from replay_server.api import chunks, insights, live, privacy, v1
from replay_server.dashboard import account, invitations, orgs, pages, profile, sites
from replay_server.dashboard import insights as insight_pages
from replay_server.player import STATIC_DIR
from replay_server.player import views as player
from replay_server.web.health import healthz, metrics_endpoint
from replay_server.web.http_ingest import ingest_batch, ingest_preflight
from replay_server.web.optout import opt_out_page
from replay_server.web.recorder_script import recorder_script
from replay_server.ws_recorder import recorder_ws


def http_surface() -> list[web.AbstractRouteDef]:
    # Order matters only where templates overlap: aiohttp tries them in order.
    return [
        # Public: probes, the recorder and its ingest endpoints, the opt-out page.
        web.get("/healthz", healthz),
        web.get("/metrics", metrics_endpoint),
        web.get("/recorder.js", recorder_script),
        web.get("/ingest/ws", recorder_ws),
        web.post("/ingest/batch", ingest_batch),
        web.route("OPTIONS", "/ingest/batch", ingest_preflight),
        # JSON API v1 (bearer token or the login cookie).
        web.get("/api/v1/sites", v1.list_sites),
        web.get("/api/v1/sites/{site_id}/sessions", v1.list_sessions),
        web.get("/api/v1/sites/{site_id}/stats", insights.stats),
        web.get("/api/v1/sites/{site_id}/heatmap", insights.heatmap),
        web.get("/api/v1/sessions/{session_id}", v1.get_session),
        web.get("/api/v1/sessions/{session_id}/events", v1.get_events),
        web.get("/api/v1/sessions/{session_id}/chunks/{chunk}", chunks.get_chunk_blob),
        web.get("/api/v1/sites/{site_id}/dictionaries/{dictionary_id}", chunks.get_dictionary),
        web.get("/api/v1/sessions/{session_id}/live", live.live_view),
        web.delete("/api/v1/sessions/{session_id}", privacy.delete_session),
        web.delete("/api/v1/sites/{site_id}/visitors/{visitor_id}", privacy.delete_visitor),
        web.get("/api/v1/sessions/{session_id}/export", privacy.export_session),
        # Dashboard (login) and the player.
        web.get("/login", pages.login_page, name="login"),
        web.post("/login", pages.login_submit),
        web.post("/logout", pages.logout, name="logout"),
        web.get("/", pages.sites_page, name="sites"),
        web.get("/sites/{site_id}", insight_pages.site_home, name="site"),
        web.get("/sites/{site_id}/overview", insight_pages.overview_page, name="overview"),
        web.get("/sites/{site_id}/heatmap", insight_pages.heatmap_page, name="heatmap"),
        web.get("/sites/{site_id}/sessions", pages.sessions_page, name="sessions"),
        web.get("/sessions/{session_id}", player.player_page, name="player"),
        web.get("/sites/{site_id}/settings", sites.settings_page, name="site_settings"),
        web.post("/sites/{site_id}/settings", sites.settings_submit),
        web.post("/sites/{site_id}/rotate-key", sites.rotate_key, name="site_rotate_key"),
        web.get("/account", profile.account_page, name="account"),
        web.post("/account", profile.update),
        web.post("/account/logins/end", profile.end_login, name="account_login_end"),
        web.post("/account/delete", profile.delete, name="account_delete"),
        web.get("/account/password", account.password_page, name="account_password"),
        web.post("/account/password", account.password_submit),
        web.get("/account/tokens", account.tokens_page, name="account_tokens"),
        web.post("/account/tokens", account.create_token),
        web.post(
            "/account/tokens/{token_id}/revoke",
            account.revoke_token,
            name="account_token_revoke",
        ),
        web.get("/orgs/{org_id}/members", orgs.members_page, name="org_members"),
        web.post("/orgs/{org_id}/members", orgs.invite_member),
        web.post("/orgs/{org_id}/members/{user_id}/remove", orgs.remove, name="org_member_remove"),
        web.post(
            "/orgs/{org_id}/invitations/{invitation_id}/revoke",
            orgs.revoke,
            name="org_invitation_revoke",
        ),
        # Invitation links (public: the invitee may have no account yet).
        web.get("/invitations/{token}", invitations.invitation_page, name="invitation"),
        web.post("/invitations/{token}/accept", invitations.accept),
        web.post("/invitations/{token}/new-account", invitations.create_account),
        web.static("/static/player/", STATIC_DIR, name="player_static"),
        web.get("/opt-out", opt_out_page),
    ]


def add_routes(app: web.Application) -> None:
    app.router.add_routes(http_surface())
