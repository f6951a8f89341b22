"""Keep-alive clients are shared out among the server's workers (lrs_ws.balance): with two
workers, two busy clients get one each, four get two each, whatever worker wakes first; an idle
pooled connection does not count as one worker's share."""
from __future__ import annotations

import http.client
import os
import time
from pathlib import Path

import pytest

from lrs_ws.balance import BUSY_WINDOW
from tests.e2e.serving import find_by_uln, serving


def _owner(worker_pids: set[int], connection: http.client.HTTPConnection) -> int:
    """The worker process holding the server's end of this client connection."""
    client_port = connection.sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == client_port and fields[3] == "01":
            inode = fields[9]
    assert inode is not None, "the connection is not established"
    for pid in worker_pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError(f"no worker holds client port {client_port}")


def _busy_client(port: int) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    _ask(connection)
    return connection


def _ask(connection: http.client.HTTPConnection) -> None:
    connection.request("POST", "/LearnerService.svc", body=find_by_uln(), headers={"Content-Type": "text/xml; charset=utf-8"})
    answer = connection.getresponse()
    assert answer.status == 200, answer.read()
    answer.read()


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("balance"), "--workers", "2", "--no-worker") as server:
        yield server


@pytest.mark.parametrize("clients", [2, 4])
def test_busy_keep_alive_clients_are_shared_evenly(two_workers, clients):
    port = int(two_workers.base_url.rsplit(":", 1)[1])
    workers = two_workers.worker_pids()
    assert len(workers) == 2
    # The server balances every busy connection, the start-up probes' and the last test's too:
    # let those fall idle (lrs_ws.balance.BUSY_WINDOW) so that only this test's clients count.
    time.sleep(BUSY_WINDOW + 0.3)
    connections = [_busy_client(port) for _ in range(clients)]
    try:
        for connection in connections:  # each stays busy
            _ask(connection)
        owners = [_owner(workers, connection) for connection in connections]
        assert sorted(owners.count(pid) for pid in workers) == [clients // 2, clients // 2], owners
    finally:
        for connection in connections:
            connection.close()


def test_an_idle_connection_is_not_a_workers_share(two_workers):
    port = int(two_workers.base_url.rsplit(":", 1)[1])
    workers = two_workers.worker_pids()
    time.sleep(BUSY_WINDOW + 0.3)  # the start-up probes' and earlier tests' connections idle
    idle = _busy_client(port)  # used once, then left open in a pool
    try:
        time.sleep(BUSY_WINDOW + 0.5)  # idle longer than the busy window, shorter than the keep-alive
        idle_owner = _owner(workers, idle)
        first, second = _busy_client(port), _busy_client(port)
        try:
            _ask(first)
            _ask(second)
            owners = {_owner(workers, first), _owner(workers, second)}
            assert owners == workers, f"idle on {idle_owner}; busy on {owners}"
        finally:
            first.close()
            second.close()
    finally:
        idle.close()
