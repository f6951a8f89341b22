"""The published contract of both services: our WSDL and XSD files, loaded once.

The files are the package data of ``lrs_ws.wsdl`` and ``lrs_ws.xsd`` (``wsdl/`` and ``xsd/`` in
the source tree); nothing here reads anything else. Everything built from them is cached for the
life of the process:

* :func:`single_wsdl` -- the WSDL with every schema inlined and ``soap:address`` set to the
  public URL (what ``?wsdl`` / ``?singlewsdl`` serve);
* :func:`message_schema` -- one :class:`lxml.etree.XMLSchema` over all our XSD files;
* :func:`validate_body_element` -- validate a SOAP Body child against it, raising
  :class:`ContractViolation` with the offending field and a readable reason;
* :func:`parser` -- an lxml parser safe for untrusted input;
* :func:`request_parser` -- the same, reading every value as its XML string value;
* :func:`members_of` -- the elements of a complex type, for wire models kept in step with it.
"""
from __future__ import annotations

import copy
import functools
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TypedDict

from lxml import etree

__all__ = [
    "CONTRACT_ROOT",
    "WSDL_DIR",
    "XSD_DIR",
    "ContractViolation",
    "message_schema",
    "members_of",
    "parser",
    "request_parser",
    "single_wsdl",
    "validate_body_element",
    "wsdl_path",
]


def _package_dir(package: str) -> Path:
    """The directory of a data package as a file path: lxml resolves xs:import by file location."""
    directory = resources.files(package)
    if not directory.is_dir():
        raise RuntimeError(f"{package} is not a directory on disk (lrs-ws cannot run from a zip file)")
    return Path(str(directory))


WSDL_DIR = _package_dir("lrs_ws.wsdl")
XSD_DIR = _package_dir("lrs_ws.xsd")
# The WSDLs import their schemas as ``../xsd/...``: both directories share this parent.
CONTRACT_ROOT = WSDL_DIR.parent


_XS = "http://www.w3.org/2001/XMLSchema"
_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_SOAP_ADDRESS_TAGS = (
    "{http://schemas.xmlsoap.org/wsdl/soap/}address",
    "{http://schemas.xmlsoap.org/wsdl/soap12/}address",
)
_DEFAULT_WSDL = "LearnerService.wsdl"


class ContractViolation(ValueError):
    """A message does not conform to the published schemas.

    ``field`` is the path of the offending element below the message root, by local names
    (``'DateOfBirth'``, ``'Learner/DateOfBirth'``, ``'Learner[2]/ULN'``), or the root's own name
    when the root itself is at fault. ``reason`` is one human sentence. ``errors`` keeps the raw
    validator messages, for logs only (never send them to a client: they are long and technical).
    """

    def __init__(self, field: str, reason: str, errors: tuple[str, ...] = ()) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.errors = errors


# --------------------------------------------------------------------------- parsing


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


def _parse_trusted(path: Path) -> etree._ElementTree:
    """Parse one of our own contract files (still without network or entity expansion)."""
    return etree.parse(str(path), parser())


# --------------------------------------------------------------------------- the WSDL


def wsdl_path(name: str = _DEFAULT_WSDL) -> Path:
    """Path of one of our WSDL files (``wsdl/<name>``)."""
    path = WSDL_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"contract file not found: {path}")
    return path


def _collect_imported_schemas(schema: etree._Element, base: Path, found: dict[Path, etree._Element]) -> None:
    """Load, depth first, every schema that ``schema`` imports by schemaLocation into ``found``."""
    for include in schema.iterfind(f"{{{_XS}}}include"):
        raise ValueError(f"xs:include is not supported in the contract ({include.get('schemaLocation')})")
    for imp in schema.iterfind(f"{{{_XS}}}import"):
        location = imp.get("schemaLocation")
        if not location:
            continue
        target = (base.parent / location).resolve()
        if target in found:
            continue
        root = _parse_trusted(target).getroot()
        found[target] = root  # mark before recursing: imports may be mutual
        _collect_imported_schemas(root, target, found)


@functools.lru_cache(maxsize=16)
def _single_wsdl(public_url: str, name: str) -> bytes:
    source = wsdl_path(name)
    doc = _parse_trusted(source)
    root = doc.getroot()
    types = root.find(f"{{{_WSDL}}}types")
    if types is not None:
        found: dict[Path, etree._Element] = {}
        for schema in list(types.iterfind(f"{{{_XS}}}schema")):
            _collect_imported_schemas(schema, source, found)
            for imp in schema.iterfind(f"{{{_XS}}}import"):
                imp.attrib.pop("schemaLocation", None)
            # A schema that only gathered imports has nothing left to say once they are inlined.
            if all(child.tag == f"{{{_XS}}}import" or not isinstance(child.tag, str) for child in schema):
                types.remove(schema)
        for inlined in found.values():
            inlined = copy.deepcopy(inlined)
            for imp in inlined.iterfind(f"{{{_XS}}}import"):
                imp.attrib.pop("schemaLocation", None)
            types.append(inlined)
        etree.indent(types, space="  ", level=1)
    addresses = [el for tag in _SOAP_ADDRESS_TAGS for el in root.iter(tag)]
    if not addresses:
        raise ValueError(f"{source.name} has no soap:address to set")
    for address in addresses:
        address.set("location", public_url)
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")


def single_wsdl(public_url: str, name: str = _DEFAULT_WSDL) -> bytes:
    """Our WSDL as one self-contained document (WCF ``?singlewsdl`` style).

    Every schema the WSDL imports (and every schema those import) is inlined into
    ``<wsdl:types>`` with its ``schemaLocation`` removed, so no external reference is left; every
    ``soap:address`` carries ``public_url``. ``name`` is the file under ``wsdl/``. Built once per
    (URL, file) and cached.
    """
    if not isinstance(public_url, str) or not public_url:
        raise ValueError("public_url must be a non-empty string")
    return _single_wsdl(public_url, name)


# --------------------------------------------------------------------------- the schema


def _schema_files() -> list[Path]:
    return sorted(XSD_DIR.glob("*.xsd"))


_BUILD_LOCK = threading.Lock()


def message_schema() -> etree.XMLSchema:
    """The schema, built by the first caller; libxml2 fails when two threads build it at once."""
    with _BUILD_LOCK:
        return _message_schema()


@functools.lru_cache(maxsize=1)
def _message_schema() -> etree.XMLSchema:
    """One XMLSchema over every ``xsd/*.xsd`` file, through a small wrapper that imports them.

    Built once per process. Validating is safe from several threads, but ``error_log`` belongs to
    the schema object and reflects the latest validation in any thread: use
    :func:`validate_body_element`, which serialises validation and reading the log.
    Note: libxml2 loads one document per namespace through an import, so each namespace must
    live in one file (a namespace spread over files would need a hub file that includes them).
    """
    wrapper = etree.Element(f"{{{_XS}}}schema", nsmap={"xs": _XS})
    seen: dict[str, Path] = {}
    for path in _schema_files():
        namespace = _parse_trusted(path).getroot().get("targetNamespace", "")
        if namespace in seen:
            raise ValueError(f"{path.name} and {seen[namespace].name} share namespace {namespace}")
        seen[namespace] = path
        etree.SubElement(wrapper, f"{{{_XS}}}import", namespace=namespace, schemaLocation=path.as_uri())
    return etree.XMLSchema(wrapper)


# --------------------------------------------------------------------------- type knowledge
# Just enough of the XSD files to name the simple type behind an element and quote its facets
# and documentation in error messages. lxml does the validation itself.


@dataclass(frozen=True)
class _SimpleType:
    name: str
    min_length: int | None
    max_length: int | None
    doc: str


@dataclass(frozen=True)
class _Child:
    tag: str  # as it appears on the wire: "Name" (unqualified) or "{ns}Name" (a ref)
    type: str  # {ns}name of its type
    mandatory: bool


@dataclass(frozen=True)
class _TypeIndex:
    elements: dict[str, str]  # global element {ns}name -> type {ns}name
    children: dict[str, list[_Child]]  # complex type {ns}name -> its children, in order
    simple: dict[str, _SimpleType]  # simple type {ns}name -> facets


def _qname(value: str, context: etree._Element) -> str:
    prefix, _, local = value.rpartition(":")
    return f"{{{context.nsmap.get(prefix or None, '')}}}{local}"


def _first_sentence(doc: etree._Element) -> str:
    text = " ".join((doc.findtext(f"{{{_XS}}}annotation/{{{_XS}}}documentation") or "").split())
    return text.split(". ")[0].rstrip(".")


@functools.lru_cache(maxsize=1)
def _type_index() -> _TypeIndex:
    elements: dict[str, str] = {}
    simple: dict[str, _SimpleType] = {}
    groups: dict[str, etree._Element] = {}
    complex_defs: dict[str, etree._Element] = {}
    for path in _schema_files():
        root = _parse_trusted(path).getroot()
        tns = root.get("targetNamespace", "")
        for el in root.iterfind(f"{{{_XS}}}element"):
            if el_type := el.get("type"):
                elements[f"{{{tns}}}{el.get('name')}"] = _qname(el_type, el)
        for grp in root.iterfind(f"{{{_XS}}}group"):
            groups[f"{{{tns}}}{grp.get('name')}"] = grp
        for ct in root.iterfind(f"{{{_XS}}}complexType"):
            complex_defs[f"{{{tns}}}{ct.get('name')}"] = ct
        for st in root.iterfind(f"{{{_XS}}}simpleType"):
            restriction = st.find(f"{{{_XS}}}restriction")
            facets = {} if restriction is None else {f.tag.split("}")[1]: f.get("value", "") for f in restriction if isinstance(f.tag, str)}
            simple[f"{{{tns}}}{st.get('name')}"] = _SimpleType(
                name=st.get("name", ""),
                min_length=int(facets["minLength"]) if "minLength" in facets else None,
                max_length=int(facets["maxLength"]) if "maxLength" in facets else None,
                doc=_first_sentence(st),
            )

    def particles(node: etree._Element, out: list[_Child]) -> None:
        for child in node:
            if child.tag == f"{{{_XS}}}element":
                mandatory = child.get("minOccurs", "1") != "0"
                if ref_name := child.get("ref"):
                    ref = _qname(ref_name, child)
                    out.append(_Child(ref, elements.get(ref, ""), mandatory))
                else:
                    out.append(_Child(child.get("name", ""), _qname(child.get("type", "xs:anyType"), child), mandatory))
            elif child.tag == f"{{{_XS}}}group" and (group_ref := child.get("ref")):
                particles(groups[_qname(group_ref, child)], out)
            elif child.tag == f"{{{_XS}}}extension":
                base = complex_defs.get(_qname(child.get("base", ""), child))
                if base is not None:
                    particles(base, out)
                particles(child, out)
            elif isinstance(child.tag, str) and child.tag != f"{{{_XS}}}annotation":
                particles(child, out)  # sequence, choice, all, complexContent

    children: dict[str, list[_Child]] = {}
    for name, ct in complex_defs.items():
        children[name] = []
        particles(ct, children[name])
    return _TypeIndex(elements=elements, children=children, simple=simple)


def _type_of(node: etree._Element) -> str | None:
    """The {ns}name of the type our schemas give ``node``, walking down from the message root."""
    index = _type_index()
    chain = [node, *node.iterancestors()][::-1]
    type_name = index.elements.get(str(chain[0].tag))
    for step in chain[1:]:
        if type_name is None:
            return None
        local = etree.QName(step).localname
        type_name = next((c.type for c in index.children.get(type_name, []) if _local(c.tag) == local), None)
    return type_name


def _simple_type_of(node: etree._Element) -> _SimpleType | None:
    type_name = _type_of(node)
    return _type_index().simple.get(type_name) if type_name else None


def _missing_before(node: etree._Element) -> str | None:
    """The first mandatory sibling declared before ``node`` that the message lacks, if any."""
    parent = node.getparent()
    parent_type = _type_of(parent) if parent is not None else None
    declared = _type_index().children.get(parent_type or "", [])
    present = {etree.QName(s).localname for s in parent if isinstance(s.tag, str)} if parent is not None else set()
    local = etree.QName(node).localname
    for child in declared:
        if _local(child.tag) == local:
            return None
        if child.mandatory and _local(child.tag) not in present:
            return _local(child.tag)
    return None


# --------------------------------------------------------------------------- validation

_ELEMENT_PREFIX = re.compile(r"^Element '[^']*'(?:, attribute '([^']*)')?: ")
_EXPECTED = re.compile(r"Expected is (?:one of )?\( (.*) \)")
_LENGTH = re.compile(r"length of '(\d+)'; this (underruns|exceeds) the allowed (?:minimum|maximum) length of '(\d+)'")
_VALUE = re.compile(r"The value '(.*)' is not accepted by the pattern")
_ATOMIC = re.compile(r"^'(.*)' is not a valid value of the atomic type '([^']*)'")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _field_of(node: etree._Element, root: etree._Element) -> str:
    """Path of ``node`` below ``root`` by local names; ``root``'s own name for the root."""
    if node is root:
        return etree.QName(root).localname
    steps = []
    for el in [node, *node.iterancestors()]:
        if el is root:
            break
        name = etree.QName(el).localname
        parent = el.getparent()
        twins = [s for s in parent if s.tag == el.tag] if parent is not None else [el]
        steps.append(f"{name}[{twins.index(el) + 1}]" if len(twins) > 1 else name)
    return "/".join(reversed(steps))


def _join(parent_field: str, root: etree._Element, parent: etree._Element | None, child: str) -> str:
    return child if parent is root else f"{parent_field}/{child}"


def _node_at(doc_root: etree._Element, path: str | None) -> etree._Element | None:
    if not path:
        return None
    namespaces: dict[str, str] = {}
    for el in doc_root.iter():
        for prefix, uri in el.nsmap.items():
            if prefix:
                namespaces.setdefault(prefix, uri)
    try:
        hits = doc_root.getroottree().xpath(path, namespaces=namespaces)
    except etree.XPathError:
        return None
    return hits[0] if hits and isinstance(hits[0], etree._Element) else None


def _describe(entry: etree._LogEntry, root: etree._Element) -> tuple[str, str]:
    """Turn one libxml2 schema error into (field, reason)."""
    node = _node_at(root, entry.path)
    match = _ELEMENT_PREFIX.match(entry.message)
    attribute = match.group(1) if match else None
    message = entry.message[match.end():] if match else entry.message
    if node is None:
        element_name = _local(entry.message.split("'")[1]) if "'" in entry.message else "?"
        return element_name, message.rstrip(".")
    field = _field_of(node, root)
    name = etree.QName(node).localname
    simple = _simple_type_of(node)
    type_label = simple.name if simple else "its type"
    expected = _EXPECTED.search(message)
    expected_names = [n.strip() for n in expected.group(1).split(",")] if expected else []

    if entry.type_name == "SCHEMAV_CVC_ELT_1":
        return name, f"{{{etree.QName(node).namespace}}}{name} is not a message of this service"
    if attribute is not None:
        return field, f"attribute '{_local(attribute)}' is not allowed on {name}"
    if "Missing child element(s)" in message:
        if len(expected_names) == 1:
            only = _local(expected_names[0])
            return _join(field, root, node, only), f"missing mandatory element {only}"
        present = {etree.QName(s).localname for s in node if isinstance(s.tag, str)}
        declared = _type_index().children.get(_type_of(node) or "", [])
        missing = next((_local(c.tag) for c in declared if c.mandatory and _local(c.tag) not in present), None)
        if missing is not None:
            return _join(field, root, node, missing), f"missing mandatory element {missing}"
        return field, f"{name} is incomplete: expected one of {', '.join(map(_local, expected_names))}"
    if "This element is not expected" in message:
        parent = node.getparent()
        parent_field = _field_of(parent, root) if parent is not None else name
        same_name = [n for n in expected_names if _local(n) == name and n != node.tag]
        if same_name:
            wanted = same_name[0]
            ns = etree.QName(node).namespace
            should = f"in namespace {wanted[1:].split('}')[0]}" if wanted.startswith("{") else "unqualified (no namespace)"
            found_in = f"namespace {ns}" if ns else "no namespace"
            return field, f"element {name} is in {found_in} but must be {should}"
        missing = _missing_before(node)
        if missing is not None:
            return _join(parent_field, root, parent, missing), f"missing mandatory element {missing}"
        if expected_names:
            wanted = ", ".join(map(_local, expected_names))
            return field, f"element {name} is not allowed here (out of order or unknown); expected {wanted}"
        return field, f"unexpected element {name}"
    if "not 'nillable'" in message:
        return field, f"{name} must have a value (xsi:nil is not allowed here)"
    if "Character content" in message:
        return field, f"text is not allowed directly inside {name}"
    length = _LENGTH.search(message)
    if length:
        got, _, limit = int(length.group(1)), length.group(2), int(length.group(3))
        if got == 0 and simple and simple.min_length:
            return field, "must not be empty"
        if simple and simple.min_length is not None and simple.min_length == simple.max_length:
            return field, f"length must be exactly {simple.min_length} (got {got})"
        bound = "at least" if length.group(2) == "underruns" else "at most"
        return field, f"length must be {bound} {limit} characters (got {got})"
    value = _VALUE.search(message)
    if value:
        hint = f": {simple.doc}" if simple and simple.doc else ""
        if value.group(1) == "" and simple and simple.min_length is None:
            return field, f"must not be empty ({type_label}{hint})"
        return field, f"'{value.group(1)}' does not match the required pattern for {type_label}{hint}"
    atomic = _ATOMIC.search(message)
    if atomic:
        return field, f"'{atomic.group(1)}' is not a valid {atomic.group(2)}"
    return field, message.rstrip(".")


_VALIDATION_LOCK = threading.Lock()


def validate_body_element(element: etree._Element) -> None:
    """Validate one SOAP Body child (request, response or fault detail) against our schemas.

    The element may still sit inside its envelope: a copy is validated, detached, with the
    namespace declarations it inherits. Raises :class:`ContractViolation` describing the first
    error in document order.
    """
    detached = copy.deepcopy(element)
    schema = message_schema()
    with _VALIDATION_LOCK:  # the schema's error_log is shared state: read it before anyone else validates
        if schema.validate(detached):
            return
        log = schema.error_log.copy()
    errors = tuple(entry.message for entry in log)
    field, reason = _describe(log[0], detached)
    raise ContractViolation(field, reason, errors)


@dataclass(frozen=True)
class Member:
    name: str
    type: str  # {namespace}local
    nillable: bool


def members_of(file_name: str, type_name: str) -> tuple[Member, ...]:
    """The elements of a complex type's sequence (also inside an extension) in one of our xsd
    files, in order: the wire model of a long type is built from its schema, not retyped."""
    root = etree.parse(str(XSD_DIR / file_name), parser()).getroot()
    (complex_type,) = root.iterfind(f"{{{_XS}}}complexType[@name='{type_name}']")
    members = []
    for element in complex_type.iter(f"{{{_XS}}}element"):
        name, type_ref = element.get("name"), element.get("type")
        if name is None or type_ref is None:
            raise ValueError(f"{file_name}: an element of {type_name} has no name or no type")
        prefix, _, local = type_ref.rpartition(":")
        members.append(Member(name, f"{{{element.nsmap[prefix or None]}}}{local}", element.get("nillable") == "true"))
    return tuple(members)
