"""`python -m replay_server` is the `replay-server` command."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="replay-server")
