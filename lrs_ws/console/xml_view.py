"""A kept SOAP message as the console shows it: indented, highlighted (Pygments), with the
lines of the elements a problem names marked, and a request as a curl command to send again."""
from __future__ import annotations

import re
import shlex

from lxml import etree
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import XmlLexer

from lrs_ws.contract.parsing import parser


def indented(text: str) -> str:
    """The message indented for reading; as it was when it is not well-formed XML."""
    try:
        tree = etree.fromstring(text.encode("utf-8"), parser())
    except (etree.XMLSyntaxError, ValueError):
        return text
    etree.indent(tree, space="  ")
    return etree.tostring(tree, encoding="unicode")


def named_lines(text: str, problem: str | None) -> list[int]:
    """The lines (1-based) of `text` holding an element whose local name the problem names."""
    if not problem:
        return []
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", problem))
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r"\s*<(?:[\w.-]+:)?([\w.-]+)", line)
        if match and match.group(1) in words and not line.lstrip().startswith("</"):
            lines.append(number)
    return lines


def highlighted(text: str, problem: str | None = None) -> Markup:
    """HTML of the message (Pygments escapes every character of it)."""
    shown = indented(text)
    formatter = HtmlFormatter(cssclass="xml", hl_lines=named_lines(shown, problem), wrapcode=True)
    return Markup(highlight(shown, XmlLexer(), formatter))  # noqa: S704 - Pygments' own escaped HTML


def as_curl(url: str, soap_action: str | None, request: str) -> str:
    """A shell command that sends the request again (passwords stay masked: put yours in)."""
    headers = ["Content-Type: text/xml; charset=utf-8"]
    if soap_action is not None:  # kept as sent, usually quoted already ("http://...")
        action = soap_action.strip()
        if len(action) >= 2 and action[0] == action[-1] == '"':
            action = action[1:-1]
        headers.append(f'SOAPAction: "{action}"')
    parts = ["curl", "-sS", "-X", "POST", shlex.quote(url)]
    for header in headers:
        parts += ["-H", shlex.quote(header)]
    marker = "LRS_WS_REQUEST"
    while marker in request:
        marker += "_"
    return " ".join(parts) + f" --data-binary @- <<'{marker}'\n{request}\n{marker}"
