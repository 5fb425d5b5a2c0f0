"""Server-side keyframes: each page's DOM mirrored as rrweb's replayer holds it
(mirror), and the events that bring a replayer to that state from nothing
(synthesize), so a chunk can start with its own keyframe. Where the model
cannot be trusted (trust), there is no keyframe until the page's next real
FullSnapshot.

Pure and picklable: it runs in the chunk worker. Outputs are read-only views
sharing structure with the mirror's state."""

from replay_server.chunks.keyframes.mirror import Mirror
from replay_server.chunks.keyframes.synthesize import synthesize_keyframe
from replay_server.chunks.keyframes.trust import MirrorLimits

__all__ = ["Mirror", "MirrorLimits", "synthesize_keyframe"]
