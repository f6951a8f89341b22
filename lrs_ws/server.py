"""Serving: gunicorn supervises the worker processes, and each worker runs Hypercorn.

- gunicorn's arbiter starts the workers, restarts any that die (a `kill -9` included) and
  stops them on SIGTERM/SIGINT; it watches their heartbeat.
- Each worker is :class:`HypercornWorker`: an asyncio event loop with Hypercorn's HTTP/1.1
  server on the listening socket (TLS too), in front of :class:`lrs_ws.web.asgi.BufferedWsgi`,
  which hands only whole requests to the threads that run the WSGI application.
- The listening socket is opened by :func:`listen` before anything else, so a port in use or an
  unknown host is one line before the banner; gunicorn takes it over as `fd://N`.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import socket
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker

from lrs_ws.balance import ConnectionBoard, balance_accepts
from lrs_ws.config import from_options
from lrs_ws.startup import LOG_DATE_FORMAT, LOG_FORMAT

ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(Uq)s HTTP/%(H)s" %(s)s %(b)s %(D)sus "%(a)s"'
# Seconds a TLS client has to answer our close_notify when we close its connection (asyncio's
# default is 30). An idle keep-alive client that never reads again (a pooled connection) held
# every stop of the server for the whole graceful timeout, until gunicorn killed the worker.
TLS_SHUTDOWN_TIMEOUT = 2.0


class ServerError(Exception):
    """The server cannot start; the message is one line for the operator."""


@dataclass(frozen=True)
class ServerOptions:
    """How `lrs-ws serve` runs (see lrs_ws.config for each option's help)."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 4
    read_timeout: float = 10.0
    keep_alive: float = 5.0
    certfile: str | None = None
    keyfile: str | None = None
    ca_certs: str | None = None
    access_log: str | None = None
    log_level: str = "info"
    forwarded_allow_ips: tuple[str, ...] = ()  # see lrs_ws.web.asgi.TrustedProxies

    @classmethod
    def from_options(cls, values: dict[str, Any]) -> ServerOptions:
        return from_options(cls, values)

    @property
    def tls(self) -> bool:
        return self.certfile is not None

    def check_access_log(self) -> None:
        """The access log file can be written (not a worker that fails at every boot)."""
        if self.access_log in (None, "-"):
            return
        try:
            with open(self.access_log, "a", encoding="utf-8"):
                pass
        except OSError as error:
            raise ServerError(f"cannot write the access log {self.access_log}: {error.strerror or error}") from None

    def check_tls(self) -> None:
        """The TLS files load (a bad file is one line now, not a worker that fails later)."""
        if (self.certfile is None) != (self.keyfile is None):
            raise ServerError("--certfile and --keyfile go together")
        if self.ca_certs is not None and self.certfile is None:
            raise ServerError("--ca-certs (client certificates) needs --certfile and --keyfile")
        if self.certfile is None:  # not self.tls
            return
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(self.certfile, self.keyfile)
        except (ssl.SSLError, OSError) as error:
            raise ServerError(f"cannot use the certificate {self.certfile} with the key {self.keyfile}: {error}") from None
        if self.ca_certs is not None:
            try:
                context.load_verify_locations(self.ca_certs)
            except (ssl.SSLError, OSError) as error:
                raise ServerError(f"cannot read the CA certificates {self.ca_certs}: {error}") from None


def listen(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """The listening socket, or ServerError saying in one line why not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ServerError(f"cannot listen on {host}:{port}: unknown host ({error.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as error:
        sock.close()
        raise ServerError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return sock


class OneLineFormatter(logging.Formatter):
    """Control characters in a message (a request path, say) are escaped: a client cannot start
    a log line of its own."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", record.message)
        return super().formatMessage(record)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def configure_logging(level: str) -> None:
    """Timestamped log lines on standard error, for lrs-ws's own loggers."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter(LOG_FORMAT, LOG_DATE_FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())


def access_logger(target: str) -> logging.Logger:
    """Every request, at any --log-level, to standard output ('-') or a file (appended)."""
    handler = logging.StreamHandler(sys.stdout) if target == "-" else logging.FileHandler(target)
    handler.setFormatter(OneLineFormatter("[%(asctime)s] [%(process)d] %(message)s", LOG_DATE_FORMAT))
    logger = logging.getLogger("lrs_ws.access")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def _http1_only() -> None:
    """SOAP clients speak HTTP/1.1: Hypercorn's HTTP/1.1 protocol is told never to switch a
    cleartext connection to HTTP/2 (prior knowledge or `Upgrade: h2c`). Left on, an HTTP/2
    connection that opened no stream stayed open for ever, past every timeout. A `PRI *` request
    is then an ordinary request (answered 404); over TLS, ALPN offers only http/1.1."""
    from hypercorn.protocol.h11 import H11Protocol

    async def no_protocol_switch(self, event) -> None:
        return None

    H11Protocol._check_protocol = no_protocol_switch  # type: ignore[method-assign]  # patching Hypercorn is the point


def allow_dropped_connections() -> None:
    """Hypercorn closes the connection without a byte of answer when the front sends its
    DROP_MESSAGE (a request the application drops, lrs_ws.web.answers.DropConnection), as when a
    client leaves: the stream ends before its response started, so its HTTP/1.1 connection closes.
    (Left alone, Hypercorn refuses the unknown message, and answers 500 to an application that
    ends without answering.)"""
    from hypercorn.protocol.events import StreamClosed
    from hypercorn.protocol.http_stream import ASGIHTTPState, HTTPStream

    from lrs_ws.web.asgi import DROP_MESSAGE

    app_send = HTTPStream.app_send
    if getattr(app_send, "drops", False):
        return

    async def app_send_or_drop(self, message) -> None:
        if message is None or message["type"] != DROP_MESSAGE:
            return await app_send(self, message)
        if self.state == ASGIHTTPState.REQUEST and not self.closed:
            await self.send(StreamClosed(stream_id=self.stream_id))

    app_send_or_drop.drops = True  # type: ignore[attr-defined]
    HTTPStream.app_send = app_send_or_drop  # type: ignore[method-assign]  # patching Hypercorn is the point


class HypercornWorker(Worker):
    """A gunicorn worker that serves with Hypercorn on an asyncio loop.

    gunicorn's worker contract: call `notify()` often (the heartbeat), stop when `alive` turns
    false (SIGTERM: finish what is running), and leave when the arbiter is gone.
    """

    app: _Arbiter  # the application gunicorn hands its workers: ours

    def init_signals(self) -> None:
        # The event loop installs its own handlers in run(); leave none of gunicorn's behind.
        for sig in self.SIGNALS:
            signal.signal(sig, signal.SIG_DFL)

    def run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        import hypercorn.asyncio
        from hypercorn.config import Config

        options: ServerOptions = self.app.server_options
        configure_logging(options.log_level)
        loop = asyncio.get_running_loop()
        _bound_tls_shutdown(loop, TLS_SHUTDOWN_TIMEOUT)
        if self.app.connection_board is not None:
            balance_accepts(loop, self.app.connection_board)
        stopping = asyncio.Event()
        config = Config()
        # Our own copy of the listening socket: Hypercorn closes what it was given.
        # (gunicorn's sockets are its BaseSocket wrappers, which its stubs type as plain sockets)
        config.bind = [f"fd://{os.dup(listener.sock.fileno())}" for listener in self.sockets]  # type: ignore[attr-defined]
        config.keep_alive_timeout = options.keep_alive
        config.read_timeout = None  # bodies: BufferedWsgi's deadline; heads: keep_alive_timeout
        config.graceful_timeout = self.cfg.graceful_timeout
        config.alpn_protocols = ["http/1.1"]
        config.include_server_header = False
        config.loglevel = options.log_level.upper()
        config.errorlog = logging.getLogger("hypercorn.error")  # through configure_logging's handler
        config.accesslog = access_logger(options.access_log) if options.access_log else None
        config.access_log_format = ACCESS_LOG_FORMAT
        _http1_only()
        allow_dropped_connections()
        if options.tls:
            config.certfile, config.keyfile = options.certfile, options.keyfile
            config.ssl_handshake_timeout = options.keep_alive  # a stalled handshake is an incomplete head
            if options.ca_certs is not None:
                config.ca_certs = options.ca_certs
                config.verify_mode = ssl.CERT_REQUIRED

        def stop(quick: bool) -> None:
            self.alive = False
            if quick:
                config.graceful_timeout = 0
            stopping.set()

        loop.add_signal_handler(signal.SIGTERM, stop, False)
        loop.add_signal_handler(signal.SIGINT, stop, True)
        loop.add_signal_handler(signal.SIGQUIT, stop, True)
        loop.add_signal_handler(signal.SIGUSR1, self.log.reopen_files)

        async def until_stopped() -> None:
            while self.alive:
                self.notify()
                if self.ppid != os.getppid():  # the arbiter is gone
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=1.0)

        await hypercorn.asyncio.serve(self.wsgi, config, shutdown_trigger=until_stopped, mode="asgi")


def _bound_tls_shutdown(loop: asyncio.AbstractEventLoop, seconds: float) -> None:
    """TLS servers that `loop` creates give up on a client's close_notify after `seconds`.

    Hypercorn calls asyncio.start_server without `ssl_shutdown_timeout`; start_server hands its
    arguments to the running loop's create_server, so this loop's create_server adds it.
    """
    create_server = loop.create_server

    async def create_bounded_server(*args: Any, **kwargs: Any):
        if kwargs.get("ssl") is not None:
            kwargs.setdefault("ssl_shutdown_timeout", seconds)
        return await create_server(*args, **kwargs)

    loop.create_server = create_bounded_server  # type: ignore[method-assign]  # patching the loop is the point


class _Arbiter(BaseApplication):
    def __init__(
        self, app_factory: Callable, listener: socket.socket, options: ServerOptions, every_second: Callable[[], None] | None
    ) -> None:
        self.app_factory = app_factory
        self.server_options = options
        self.every_second = every_second
        self.listener_fd = listener.detach()  # gunicorn owns it from here
        # made before the workers fork, so that they share it; twice the workers for restarts
        self.connection_board = ConnectionBoard(2 * options.workers) if options.workers > 1 else None
        super().__init__()

    def load_config(self) -> None:
        options = self.server_options
        for key, value in {
            "bind": [f"fd://{self.listener_fd}"],
            "workers": options.workers,
            "worker_class": f"{__name__}.HypercornWorker",
            "timeout": 30,  # heartbeat: a worker silent this long is restarted
            "graceful_timeout": 10,
            "loglevel": options.log_level,
            "errorlog": "-",
            "accesslog": None,  # written by Hypercorn in the workers
            "proc_name": "lrs-ws",
            "control_socket_disable": True,
        }.items():
            self.cfg.set(key, value)

    def load(self):
        # In each worker, after the fork: every worker opens its own database connections.
        return self.app_factory()

    def run(self) -> None:
        try:
            _MainLoop(self, self.every_second).run()
        except RuntimeError as error:  # as gunicorn's own run(): a configuration it refuses
            print(f"Error: {error}", file=sys.stderr)
            sys.exit(1)


class _MainLoop(Arbiter):
    """gunicorn's arbiter, calling `every_second` from its main loop (about once a second) and
    before it reaps ended children, so that a child of ours it did not start (the batch
    worker's supervisor) is seen ending, with its exit status, by its own Popen first."""

    def __init__(self, app: BaseApplication, every_second: Callable[[], None] | None) -> None:
        self.every_second = every_second
        super().__init__(app)

    def reap_workers(self) -> None:
        if self.every_second is not None:
            self.every_second()
        super().reap_workers()

    def manage_workers(self) -> None:
        super().manage_workers()
        if self.every_second is not None:
            self.every_second()


def run(
    app_factory: Callable[[], Any],
    listener: socket.socket,
    options: ServerOptions,
    every_second: Callable[[], None] | None = None,
) -> None:
    """Serve until stopped. `app_factory` builds the ASGI application in each worker;
    `every_second` runs in the main process (it must not block: the arbiter is one thread)."""
    _Arbiter(app_factory, listener, options, every_second).run()
