"""What an lrs-ws process says as it starts, with nothing heavy imported yet: the log line's
form, and the word a supervised batch worker sends its supervisor ("ready", or why not)."""
from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn

LOG_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
# The file descriptor on which a supervised batch worker says "ready" or "error <reason>".
READY_FD_ENV = "LRS_WS_READY_FD"


def tell_supervisor(message: str) -> None:
    """Say `message` (one line) to the supervisor that started this process, once; nothing
    when no supervisor is listening."""
    fd = os.environ.pop(READY_FD_ENV, None)
    if fd is None:
        return
    try:
        os.write(int(fd), (" ".join(message.split()) + "\n").encode("utf-8", "replace"))
        os.close(int(fd))
    except (OSError, ValueError):
        pass  # the supervisor is gone: nobody to tell


def cannot_start(reason: str) -> NoReturn:
    """One ERROR line (not a traceback), the supervisor told why, exit status 1."""
    if not logging.getLogger().handlers:
        logging.basicConfig(format=LOG_FORMAT, datefmt=LOG_DATE_FORMAT)
    logging.getLogger("lrs_ws").error("cannot start: %s", reason)
    tell_supervisor(f"error {reason}")
    sys.exit(1)
