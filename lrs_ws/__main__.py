"""`python -m lrs_ws`: the `lrs-ws` command."""
import lrs_ws
from lrs_ws.startup import cannot_start

if __name__ == "__main__":
    try:
        from lrs_ws.cli import main
    except ImportError as error:  # a broken or shadowed install: say which lrs_ws, in one line
        cannot_start(f"{error} (lrs_ws imported from {list(lrs_ws.__path__)})")
    main(prog_name="lrs-ws")
