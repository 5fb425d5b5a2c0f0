"""Live view: events of sessions still recording, pushed to dashboard viewers
as soon as they are acked."""

from replay_server.live.broker import LiveBroker, LiveMessage, LocalBroker

__all__ = ["LiveBroker", "LiveMessage", "LocalBroker"]
