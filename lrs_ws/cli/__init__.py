"""The `lrs-ws` command line. Every setting is also an LRS_WS_* environment variable (lrs_ws.config).

The commands live by concern (serving, records, batch files, the sandbox) and register on the one
group, `main`, when this package is imported.
"""
from lrs_ws.cli import batch_files, check, records, sandbox, serving  # noqa: F401  (each registers its commands)
from lrs_ws.cli.app import main

__all__ = ["main"]
