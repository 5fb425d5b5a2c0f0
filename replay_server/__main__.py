"""`python -m replay_server` is the `replay-server` command."""

from replay_server.cli import main

if __name__ == "__main__":
    main(prog_name="replay-server")
