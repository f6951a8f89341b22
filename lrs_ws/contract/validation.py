"""The screening's judge: one XMLSchema over all our XSD files, and the validation of a message
against it, with the offending field and a readable reason when it fails."""
from __future__ import annotations

import copy
import functools
import re
import threading
from pathlib import Path

from lxml import etree

from lrs_ws.contract.files import schema_files
from lrs_ws.contract.namespaces import XS
from lrs_ws.contract.parsing import parse_contract_file
from lrs_ws.contract.xsd_types import SimpleType, local_name, type_index


class ContractViolation(ValueError):
    """A message does not conform to the published schemas.

    ``field`` is the path of the offending element below the message root, by local names
    (``'DateOfBirth'``, ``'Learner/DateOfBirth'``, ``'Learner[2]/ULN'``), or the root's own name
    when the root itself is at fault. ``reason`` is one human sentence. ``errors`` keeps the raw
    validator messages, for logs only (never send them to a client: they are long and technical).
    """

    def __init__(self, field: str, reason: str, errors: tuple[str, ...] = (), line: int | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.errors = errors
        self.line = line  # in the document the message came from, when known


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
    wrapper = etree.Element(f"{{{XS}}}schema", nsmap={"xs": XS})
    seen: dict[str, Path] = {}
    for path in schema_files():
        namespace = parse_contract_file(path).getroot().get("targetNamespace", "")
        if namespace in seen:
            raise ValueError(f"{path.name} and {seen[namespace].name} share namespace {namespace}")
        seen[namespace] = path
        etree.SubElement(wrapper, f"{{{XS}}}import", namespace=namespace, schemaLocation=path.as_uri())
    return etree.XMLSchema(wrapper)


def _type_of(node: etree._Element) -> str | None:
    """The {ns}name of the type our schemas give ``node``, walking down from the message root."""
    index = type_index()
    chain = [node, *node.iterancestors()][::-1]
    type_name = index.elements.get(str(chain[0].tag))
    for step in chain[1:]:
        if type_name is None:
            return None
        local = etree.QName(step).localname
        type_name = next((c.type for c in index.children.get(type_name, ()) if c.name == local), None)
    return type_name


def _simple_type_of(node: etree._Element) -> SimpleType | None:
    type_name = _type_of(node)
    return type_index().simple.get(type_name) if type_name else None


def _missing_before(node: etree._Element) -> str | None:
    """The first mandatory sibling declared before ``node`` that the message lacks, if any."""
    parent = node.getparent()
    parent_type = _type_of(parent) if parent is not None else None
    declared = type_index().children.get(parent_type or "", ())
    present = {etree.QName(s).localname for s in parent if isinstance(s.tag, str)} if parent is not None else set()
    local = etree.QName(node).localname
    for child in declared:
        if child.name == local:
            return None
        if child.mandatory and child.name not in present:
            return child.name
    return None


# --------------------------------------------------------------------------- validation

_ELEMENT_PREFIX = re.compile(r"^Element '[^']*'(?:, attribute '([^']*)')?: ")
_EXPECTED = re.compile(r"Expected is (?:one of )?\( (.*) \)")
_LENGTH = re.compile(r"length of '(\d+)'; this (underruns|exceeds) the allowed (?:minimum|maximum) length of '(\d+)'")
_VALUE = re.compile(r"The value '(.*)' is not accepted by the pattern")
_ATOMIC = re.compile(r"^'(.*)' is not a valid value of the atomic type '([^']*)'")


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
        element_name = local_name(entry.message.split("'")[1]) if "'" in entry.message else "?"
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
        return field, f"attribute '{local_name(attribute)}' is not allowed on {name}"
    if "Missing child element(s)" in message:
        if len(expected_names) == 1:
            only = local_name(expected_names[0])
            return _join(field, root, node, only), f"missing mandatory element {only}"
        present = {etree.QName(s).localname for s in node if isinstance(s.tag, str)}
        declared = type_index().children.get(_type_of(node) or "", ())
        missing = next((c.name for c in declared if c.mandatory and c.name not in present), None)
        if missing is not None:
            return _join(field, root, node, missing), f"missing mandatory element {missing}"
        return field, f"{name} is incomplete: expected one of {', '.join(map(local_name, expected_names))}"
    if "This element is not expected" in message:
        parent = node.getparent()
        parent_field = _field_of(parent, root) if parent is not None else name
        same_name = [n for n in expected_names if local_name(n) == name and n != node.tag]
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
            wanted = ", ".join(map(local_name, expected_names))
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


def violations(element: etree._Element) -> list[ContractViolation]:
    """Every way `element` (a message in a document parsed from a file) breaks our schemas, in
    document order, each with the line it is on in that document (`lrs-ws check`)."""
    schema = message_schema()
    target = element if element.getparent() is None else copy.deepcopy(element)  # a copy keeps the lines
    with _VALIDATION_LOCK:
        if schema.validate(target):
            return []
        log = schema.error_log.copy()
    found: dict[tuple[int, str], ContractViolation] = {}
    for entry in log:
        field, reason = _describe(entry, target)
        # libxml2 may say two things of one value (its length, then its pattern): the first is enough
        found.setdefault((entry.line, field), ContractViolation(field, reason, (entry.message,), line=entry.line))
    return list(found.values())
