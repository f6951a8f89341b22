"""Our WSDL as one self-contained document (what ``?wsdl`` / ``?singlewsdl`` serve)."""
from __future__ import annotations

import copy
import functools
from pathlib import Path

from lxml import etree

from lrs_ws.contract.files import DEFAULT_WSDL, wsdl_path
from lrs_ws.contract.namespaces import WSDL, WSDL_SOAP, WSDL_SOAP12, XS
from lrs_ws.contract.parsing import parse_contract_file

_SOAP_ADDRESS_TAGS = (f"{{{WSDL_SOAP}}}address", f"{{{WSDL_SOAP12}}}address")


def _collect_imported_schemas(schema: etree._Element, base: Path, found: dict[Path, etree._Element]) -> None:
    """Load, depth first, every schema that ``schema`` imports by schemaLocation into ``found``."""
    for include in schema.iterfind(f"{{{XS}}}include"):
        raise ValueError(f"xs:include is not supported in the contract ({include.get('schemaLocation')})")
    for imp in schema.iterfind(f"{{{XS}}}import"):
        location = imp.get("schemaLocation")
        if not location:
            continue
        target = (base.parent / location).resolve()
        if target in found:
            continue
        root = parse_contract_file(target).getroot()
        found[target] = root  # mark before recursing: imports may be mutual
        _collect_imported_schemas(root, target, found)


@functools.lru_cache(maxsize=16)
def _single_wsdl(public_url: str, name: str) -> bytes:
    source = wsdl_path(name)
    doc = parse_contract_file(source)
    root = doc.getroot()
    types = root.find(f"{{{WSDL}}}types")
    if types is not None:
        found: dict[Path, etree._Element] = {}
        for schema in list(types.iterfind(f"{{{XS}}}schema")):
            _collect_imported_schemas(schema, source, found)
            for imp in schema.iterfind(f"{{{XS}}}import"):
                imp.attrib.pop("schemaLocation", None)
            # A schema that only gathered imports has nothing left to say once they are inlined.
            if all(child.tag == f"{{{XS}}}import" or not isinstance(child.tag, str) for child in schema):
                types.remove(schema)
        for inlined in found.values():
            inlined = copy.deepcopy(inlined)
            for imp in inlined.iterfind(f"{{{XS}}}import"):
                imp.attrib.pop("schemaLocation", None)
            types.append(inlined)
        etree.indent(types, space="  ", level=1)
    addresses = [el for tag in _SOAP_ADDRESS_TAGS for el in root.iter(tag)]
    if not addresses:
        raise ValueError(f"{source.name} has no soap:address to set")
    for address in addresses:
        address.set("location", public_url)
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")


def single_wsdl(public_url: str, name: str = DEFAULT_WSDL) -> bytes:
    """Our WSDL as one self-contained document (WCF ``?singlewsdl`` style).

    Every schema the WSDL imports (and every schema those import) is inlined into
    ``<wsdl:types>`` with its ``schemaLocation`` removed, so no external reference is left; every
    ``soap:address`` carries ``public_url``. ``name`` is the file under ``wsdl/``. Built once per
    (URL, file) and cached.
    """
    if not isinstance(public_url, str) or not public_url:
        raise ValueError("public_url must be a non-empty string")
    return _single_wsdl(public_url, name)


@functools.cache
def operation_messages() -> dict[str, tuple[str, str]]:
    """Every operation of both WSDLs: the Clark names of its request and of its answer, by the
    request's (`{http://api.lrs.miap.gov.uk/findmsg}FindLearnerByULN` -> ("learnerByULN",
    "{...}FindLearnerResponse")... as (operation, answer))."""
    found: dict[str, tuple[str, str]] = {}
    for name in ("LearnerService.wsdl", "LearnerServiceR9.wsdl"):
        root = parse_contract_file(wsdl_path(name)).getroot()
        parts = {}
        for message in root.iterfind(f"{{{WSDL}}}message"):
            part = message.find(f"{{{WSDL}}}part")
            if part is not None and part.get("element"):
                prefix, _, local = part.get("element", "").rpartition(":")
                parts[message.get("name")] = f"{{{part.nsmap.get(prefix or None, '')}}}{local}"
        for operation in root.iterfind(f"{{{WSDL}}}portType/{{{WSDL}}}operation"):
            given, answered = operation.find(f"{{{WSDL}}}input"), operation.find(f"{{{WSDL}}}output")
            if given is None or answered is None:
                continue
            request = parts[given.get("message", "").rpartition(":")[2]]
            found[request] = (operation.get("name", ""), parts[answered.get("message", "").rpartition(":")[2]])
    return found
