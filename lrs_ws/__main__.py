"""`python -m lrs_ws`: the `lrs-ws` command."""
from lrs_ws.cli import main

if __name__ == "__main__":
    main(prog_name="lrs-ws")
