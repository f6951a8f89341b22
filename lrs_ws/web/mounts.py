"""The mount table: which application answers a request, by the prefix of its path.

Shaped as werkzeug's DispatcherMiddleware and starlette's Mount: the application mounted at the
longest prefix of the path (whole segments; case-insensitively, as IIS matches the `.svc` paths)
gets the request with that prefix moved from PATH_INFO to SCRIPT_NAME; a path under no mount
goes to the root. Each application answers in its own form the paths under it that it does not
serve, and the refusals of the ASGI front (413, 408, 503, 500) for them (:meth:`Mount.refusal`).
The composition (lrs_ws.bootstrap.web_app) says what is mounted where.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from lrs_ws.web.answers import Answer, ErrorForm

StartResponse = Callable[..., Any]


class Mount(Protocol):
    """An application of the front: a WSGI application that also words the front's refusals."""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]: ...

    def refusal(self, path: str, status: int, detail: str) -> Answer:
        """The answer, in this application's form, to a request for `path` that the front refuses
        before it runs (too large, too slow, too busy, failed)."""
        ...


class MountTable:
    """The WSGI application of a worker: each request to the application mounted at its path."""

    def __init__(self, root: Mount, mounts: Mapping[str, Mount] | None = None) -> None:
        self.root = root
        self.mounts: dict[str, Mount] = {}
        for prefix, application in (mounts or {}).items():
            self.mount(prefix, application)

    def mount(self, prefix: str, application: Mount) -> None:
        """Serve `prefix` (`/sandbox/` or `/sandbox`: the same) and every path below it with
        `application`."""
        key = "/" + prefix.strip("/").lower()
        if key == "/":
            raise ValueError("the root is the table's own: give it as `root`")
        self.mounts[key] = application

    def find(self, path: str) -> tuple[Mount, int]:
        """The application for `path`, and the length of the prefix it is mounted at (0: the root)."""
        # PATH_INFO is latin-1 text (PEP 3333), whose lower() keeps every length.
        prefix = path.lower()
        while prefix:
            application = self.mounts.get(prefix)
            if application is not None:
                return application, len(prefix)
            prefix = prefix.rpartition("/")[0]
        return self.root, 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        application, length = self.find(path)
        if length:
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + path[:length]
            environ["PATH_INFO"] = path[length:]
        return application(environ, start_response)

    def refusal(self, path: str, status: int, detail: str) -> Answer:
        """What the ASGI front answers, in the form of the application at `path`, to a request it
        refuses; a 503 says when to try again."""
        refused = self.find(path)[0].refusal(path, status, detail)
        if status == 503:
            refused = refused._replace(headers=[*refused.headers, ("Retry-After", "1")])
        return refused


# environ -> the answer
Handler = Callable[[dict[str, Any]], Answer]


class Routes:
    """A small application to mount: a few paths below its prefix, each with a handler per HTTP
    method (HEAD answered as GET without the body). A segment `{name}` matches any one segment,
    given to the handler as `environ["wsgiorg.routing_args"][1][name]` (the WSGI convention).
    Any other path is 404 and any other method 405, in the application's error form:
    `json_error` for an API, `html_error` for pages.

        Routes(json_error, {"/journal": {"GET": journal_page}, "/journal/{id}": {"GET": entry_page}})
    """

    def __init__(self, form: ErrorForm, routes: Mapping[str, Mapping[str, Handler]]) -> None:
        self.form = form
        self.routes = [
            (tuple(path.strip("/").split("/")), {method.upper(): handler for method, handler in methods.items()})
            for path, methods in routes.items()
        ]

    def _find(self, path: str) -> tuple[Mapping[str, Handler], dict[str, str]] | None:
        segments = tuple(path.strip("/").split("/"))
        for pattern, handlers in self.routes:
            if len(pattern) != len(segments):
                continue
            params: dict[str, str] = {}
            for wanted, given in zip(pattern, segments, strict=True):
                if wanted.startswith("{") and wanted.endswith("}") and given:
                    params[wanted[1:-1]] = given
                elif wanted != given:
                    break
            else:
                return handlers, params
        return None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        found = self._find(environ.get("PATH_INFO", ""))
        if found is None:
            where = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
            answer = self.form(404, f"Nothing is served at {where}")
        elif (handler := found[0].get("GET" if method == "HEAD" else method)) is not None:
            environ["wsgiorg.routing_args"] = ((), found[1])
            answer = handler(environ)
        else:
            handlers = found[0]
            allowed = ", ".join(sorted({*handlers, "HEAD"} if "GET" in handlers else handlers))
            refused = self.form(405, f"{method} is not allowed here; {allowed} are")
            answer = refused._replace(headers=[*refused.headers, ("Allow", allowed)])
        return answer.send(start_response, head_only=method == "HEAD")

    def refusal(self, path: str, status: int, detail: str) -> Answer:
        return self.form(status, detail)
