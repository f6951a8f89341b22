"""A browser's part for the console's end-to-end tests: a requests session signed in (the sandbox
token, or a super user's credentials), the CSRF token read from a page's hidden input as a form
carries it, and pages read with lxml.html."""
from __future__ import annotations

import re

import lxml.html
import requests

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Console:
    def __init__(self, base_url: str) -> None:
        self.base = base_url + "/console"
        self.session = requests.Session()

    def sign_in(self, **form: str) -> Console:
        """`token=...` in sandbox mode; `ukprn=..., username=..., password=...` outside it."""
        response = self.session.post(self.base + "/sign-in", data=form, allow_redirects=False, timeout=10)
        assert response.status_code == 303, response.text
        return self

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, **kwargs)

    def csrf(self, path: str = "/jobs") -> str:
        found = CSRF.search(self.get(path).text)
        assert found, f"no CSRF input on {path}"
        return found.group(1)

    def post(self, path: str, form: dict | None = None, *, csrf: str | None = "page", **kwargs) -> requests.Response:
        """A form sent as the page's would be: with the CSRF token (`csrf=None`: without one)."""
        data = dict(form or {})
        if csrf == "page":
            data["csrf"] = self.csrf()
        elif csrf is not None:
            data["csrf"] = csrf
        return self.session.post(self.base + path, data=data, allow_redirects=False, timeout=60, **kwargs)

    def follow(self, response: requests.Response) -> requests.Response:
        assert response.status_code == 303, f"{response.status_code}: {response.text[:500]}"
        return self.session.get(requests.compat.urljoin(self.base, response.headers["Location"]), timeout=30)


def html(response: requests.Response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.text)


def texts(page: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(node.text_content().split()) for node in page.xpath(xpath)]


def alert(response: requests.Response) -> str:
    return " ".join(texts(html(response), '//*[@role="alert"]'))
