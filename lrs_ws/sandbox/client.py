"""A client of the sandbox's control API (lrs_ws.sandbox.api), for the command line and the pytest
plugin. Standard library only: a test run imports nothing heavy through it."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode


class SandboxError(Exception):
    """The API refused (`status`, its `{"error"}` text) or could not be reached (status None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SandboxClient:
    def __init__(self, url: str, token: str, timeout: float = 60) -> None:
        self.url = url.rstrip("/")  # where lrs-ws serves: http://127.0.0.1:8000
        self.token = token
        self.timeout = timeout

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
        """One request to `/sandbox{path}`; its JSON answer, or SandboxError."""
        given = {name: value for name, value in query.items() if value is not None}
        target = f"{self.url}/sandbox{path}" + (f"?{urlencode(given)}" if given else "")
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(target, data=data, method=method, headers={"Authorization": f"Bearer {self.token}"})
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                said = json.loads(error.read()).get("error", "")
            except ValueError:
                said = ""
            raise SandboxError(f"the sandbox answered {error.code}: {said or error.reason}", error.code) from None
        except (urllib.error.URLError, OSError) as error:
            raise SandboxError(f"cannot reach the sandbox at {self.url}: {getattr(error, 'reason', error)}") from None
