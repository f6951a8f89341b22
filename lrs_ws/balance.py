"""Keep-alive connections shared out evenly among the server's workers.

Every worker waits on the one listening socket. Left alone, asyncio accepts up to 100 pending
connections per wake-up, and the worker that wakes first takes them all: an MIS with two
keep-alive connections was served by one worker, on one core (bench/bench_balance.py).

So each worker says, in a small table in shared memory (made by the arbiter before it forks),
how many *busy* connections it holds: open ones accepted or used within BUSY_WINDOW (an idle
pooled connection costs nothing, so it does not count). A worker accepts one connection at a
time, and only while no other live worker holds fewer busy ones; the others leave it to the
least busy, woken by the same readiness. A worker that has left a connection waiting for
DEFER_LIMIT takes it itself (the least busy may be stuck or gone), so deferring is bounded.
"""
from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
import socket
import time
import weakref
from asyncio import selector_events
from typing import Any

DEFER = 0.002  # seconds a worker holding more busy connections stops watching the socket
DEFER_LIMIT = 0.25  # after this, a waiting connection is taken by whoever sees it (the least busy may be stuck)
BUSY_WINDOW = 1.0  # a connection accepted or used this recently is busy
PUBLISH_EVERY = 0.2  # seconds between a worker's reports of its busy connections

# (host, port) of a peer -> when it last sent a request to this process (the front notes each
# request while this worker balances; entries go when their connection closes)
_last_request: dict[Any, float] = {}
_balancing = False  # set by balance_accepts: a lone worker keeps no such table


def note_request(peer: Any) -> None:
    """A request arrived from `peer` (the ASGI scope's client, before any proxy rewrite)."""
    if _balancing and peer:
        _last_request[_key(peer)] = time.monotonic()


def _key(peer: Any) -> tuple[Any, ...]:
    """(host, port) of a peer, as asyncio's accept and the ASGI scope both give it."""
    return (peer[0], peer[1]) if isinstance(peer, (tuple, list)) and len(peer) >= 2 else (peer,)


class ConnectionBoard:
    """(pid, busy connections) per worker, in memory the workers share."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.table = multiprocessing.RawArray(ctypes.c_long, 2 * slots)
        self.lock = multiprocessing.Lock()
        self.mine: int | None = None

    def claim(self) -> None:
        """Take a free slot (or one of a worker that is gone) for this process."""
        pid = os.getpid()
        with self.lock:
            for slot in range(self.slots):
                holder = self.table[2 * slot]
                if holder == 0 or not _alive(holder):
                    self.table[2 * slot], self.table[2 * slot + 1] = pid, 0
                    self.mine = slot
                    return

    def publish(self, busy: int) -> None:
        if self.mine is not None:
            self.table[2 * self.mine + 1] = busy

    def others_hold_fewer(self, busy: int) -> bool:
        """Whether a live worker other than this one holds fewer than `busy` busy connections."""
        for slot in range(self.slots):
            if slot == self.mine:
                continue
            holder, held = self.table[2 * slot], self.table[2 * slot + 1]
            if holder and held < busy:
                if _alive(holder):
                    return True
                self.table[2 * slot] = 0  # gone: its slot is free again
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Connections:
    """This worker's accepted connections: the socket (while open), its peer, when accepted."""

    def __init__(self) -> None:
        self.open: list[tuple[weakref.ref[socket.socket], Any, float]] = []

    def accepted(self, connection: socket.socket, peer: Any) -> None:
        self.open.append((weakref.ref(connection), _key(peer), time.monotonic()))

    def busy(self) -> int:
        now, kept, busy = time.monotonic(), [], 0
        for entry in self.open:
            connection = entry[0]()
            if connection is None or connection.fileno() == -1:
                _last_request.pop(entry[1], None)
                continue
            kept.append(entry)
            if now - max(entry[2], _last_request.get(entry[1], 0.0)) < BUSY_WINDOW:
                busy += 1
        self.open = kept
        return busy


class _Recording:
    """The listening socket as asyncio's accept sees it: every connection accepted is noted."""

    def __init__(self, listening: socket.socket, connections: _Connections) -> None:
        self._listening = listening
        self._connections = connections

    def accept(self) -> tuple[socket.socket, Any]:
        connection, peer = self._listening.accept()
        self._connections.accepted(connection, peer)
        return connection, peer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._listening, name)


def balance_accepts(loop: asyncio.AbstractEventLoop, board: ConnectionBoard) -> None:
    """Make this worker's event loop accept as described above (call before the server starts)."""
    global _balancing
    assert isinstance(loop, selector_events.BaseSelectorEventLoop)
    board.claim()
    _balancing = True
    connections = _Connections()
    accept_many = loop._accept_connection  # type: ignore[attr-defined]  # asyncio's own, which we narrow
    waiting: dict[int, tuple[float, float]] = {}  # listening fd -> (deferring since, last deferred)

    def accept(protocol_factory: Any, sock: Any, sslcontext: Any = None, server: Any = None, backlog: int = 100,
               *rest: Any) -> None:
        busy = connections.busy()
        board.publish(busy)
        fd, now = sock.fileno(), time.monotonic()
        first, last = waiting.get(fd, (now, now))
        if now - last > 4 * DEFER:  # a new wait: the connection deferred before was taken meanwhile
            first = now
        if board.others_hold_fewer(busy) and now - first < DEFER_LIMIT:
            waiting[fd] = (first, now)
            loop._remove_reader(fd)  # type: ignore[attr-defined]
            loop.call_later(DEFER, watch_again, (protocol_factory, sock, sslcontext, server, backlog, *rest))
            return
        waiting.pop(fd, None)
        listening = sock if isinstance(sock, _Recording) else _Recording(sock, connections)
        accept_many(protocol_factory, listening, sslcontext, server, 1, *rest)
        board.publish(connections.busy())

    def watch_again(arguments: tuple[Any, ...]) -> None:
        sock, server = arguments[1], arguments[3]
        if sock.fileno() != -1 and (server is None or server._sockets is not None):  # still serving
            loop._add_reader(sock.fileno(), accept, *arguments)  # type: ignore[attr-defined]

    def publish_now_and_then() -> None:
        board.publish(connections.busy())
        loop.call_later(PUBLISH_EVERY, publish_now_and_then)

    loop._accept_connection = accept  # type: ignore[attr-defined]
    loop.call_soon(publish_now_and_then)
