"""lxml parsers: safe ones for untrusted input, and the reading of our own contract files."""
from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from lxml import etree


class _ParserOptions(TypedDict):
    resolve_entities: bool
    no_network: bool
    load_dtd: bool
    dtd_validation: bool
    huge_tree: bool


# What every parser of untrusted input is told: no entities, no DTD, no network, no huge trees.
SAFE_PARSING: _ParserOptions = {
    "resolve_entities": False, "no_network": True, "load_dtd": False, "dtd_validation": False, "huge_tree": False,
}


def parser() -> etree.XMLParser:
    """A new lxml parser for untrusted input (SAFE_PARSING).

    lxml parsers must not be shared between threads, hence a new one per call (cheap).
    """
    return etree.XMLParser(**SAFE_PARSING)


def request_parser() -> etree.XMLParser:
    """A parser for requests: as :func:`parser`, and every value read as its XML string value.

    Comments and processing instructions are dropped as the document is parsed, so the text on
    either side of one joins (`<ULN>910<!-- x -->5106906</ULN>` is 9105106906 to the schema,
    to spyne and to every reader of the tree alike); CDATA sections are text (lxml's default).
    """
    return etree.XMLParser(**SAFE_PARSING, remove_comments=True, remove_pis=True, strip_cdata=True)


def parse_contract_file(path: Path) -> etree._ElementTree:
    """Parse one of our own contract files (still without network or entity expansion)."""
    return etree.parse(str(path), parser())
