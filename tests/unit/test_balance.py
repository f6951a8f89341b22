"""The table of busy connections the server's workers share (lrs_ws.balance.ConnectionBoard)."""
from __future__ import annotations

import os
import subprocess
import sys

from lrs_ws.balance import ConnectionBoard


def test_a_worker_defers_only_to_a_live_worker_holding_fewer():
    board = ConnectionBoard(4)
    board.claim()
    assert board.mine == 0 and board.table[0] == os.getpid()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        board.table[2], board.table[3] = other.pid, 1  # a live worker with one busy connection
        board.publish(1)
        assert not board.others_hold_fewer(1)
        assert board.others_hold_fewer(2)
    finally:
        other.kill()
        other.wait()
    assert not board.others_hold_fewer(2)  # a gone worker is no one to defer to
    assert board.table[2] == 0  # and its slot is free again


def test_a_new_worker_takes_a_free_slot_or_a_gone_workers():
    board = ConnectionBoard(2)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    board.table[0], board.table[1] = gone.pid, 5
    board.table[2], board.table[3] = os.getppid(), 0  # a live one
    board.claim()
    assert board.mine == 0 and board.table[0] == os.getpid() and board.table[1] == 0


def test_a_worker_that_does_not_balance_keeps_no_table_of_peers():
    """A lone worker (--workers 1) must not remember every peer it ever served."""
    from lrs_ws import balance

    assert not balance._balancing
    balance.note_request(("127.0.0.1", 50000))
    assert balance._last_request == {}
