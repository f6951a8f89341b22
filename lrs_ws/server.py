"""Serve the WSGI application with gunicorn (worker processes, threads, keep-alive)."""
from __future__ import annotations

from typing import Callable

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, app_factory: Callable, options: dict) -> None:
        self.app_factory = app_factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        # Called in each worker after the fork: every worker opens its own database connections.
        return self.app_factory()


def run(app_factory: Callable, *, host: str, port: int, workers: int, threads: int) -> None:
    _Gunicorn(
        app_factory,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "preload_app": False,
        },
    ).run()
