"""What our XSD files declare, read once: global elements, the children of complex types in
order, and the facets of simple types.

The wire models build their members from it, the screening quotes it in its error messages, the
LRB field checks compile it, the database columns take their lengths from it. lxml does the
validation itself (:mod:`lrs_ws.contract.validation`); this index only answers questions.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from lrs_ws.contract.files import schema_files
from lrs_ws.contract.namespaces import XS
from lrs_ws.contract.parsing import parse_contract_file

__all__ = ["Child", "SimpleType", "TypeIndex", "local_name", "type_index"]

@dataclass(frozen=True)
class SimpleType:
    """One of our named simple types, its restriction chain folded in (the facets of the nearest
    step that sets one; the patterns of every step)."""

    name: str  # local name, as messages quote it
    builtin: str  # local name of the XML Schema type the chain starts from ("string", "int"); "" if none
    length: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_inclusive: str | None = None
    max_inclusive: str | None = None
    enumeration: tuple[str, ...] = ()
    # XSD regular expressions, one tuple per derivation step: a value matches one pattern of
    # each step (the patterns of one step are OR-ed, the steps AND-ed).
    patterns: tuple[tuple[str, ...], ...] = ()
    facet_names: frozenset[str] = frozenset()  # every facet the chain uses, by local name
    doc: str = ""  # the first sentence of its own xs:documentation


@dataclass(frozen=True)
class Child:
    """One element a complex type holds (its own, a group's, or its base type's)."""

    tag: str  # "Name" for a local declaration, "{namespace}Name" for a reference to a global element
    type: str  # {namespace}name of its type; "" for a reference to an element of no named type
    min_occurs: int = 1
    max_occurs: int | None = 1  # None: unbounded
    nillable: bool = False

    @property
    def name(self) -> str:
        return local_name(self.tag)

    @property
    def mandatory(self) -> bool:
        return self.min_occurs > 0


@dataclass(frozen=True)
class TypeIndex:
    elements: Mapping[str, str]  # global element {ns}name -> its type's {ns}name (when named)
    children: Mapping[str, tuple[Child, ...]]  # complex type {ns}name -> its children, in order
    simple: Mapping[str, SimpleType]  # simple type {ns}name -> its facets
    # Global elements declaring their own (anonymous) complex type -> its children, in order.
    element_types: Mapping[str, tuple[Child, ...]]

    def children_of_element(self, element: str) -> tuple[Child, ...]:
        """The children of global element ``{ns}name``, whether its type is named or its own."""
        if element in self.element_types:
            return self.element_types[element]
        return self.children[self.elements[element]]

    def child_names(self, complex_type: str) -> tuple[str, ...]:
        """The local names of a complex type's children, in order."""
        return tuple(child.name for child in self.children[complex_type])


def local_name(name: str) -> str:
    """``Name`` of ``{namespace}Name`` (or of ``Name``)."""
    return name.rsplit("}", 1)[-1]


def _qname(value: str, context: etree._Element) -> str:
    """``{namespace}local`` of a prefixed name written in ``context``."""
    prefix, _, local = value.rpartition(":")
    return f"{{{context.nsmap.get(prefix or None, '')}}}{local}"


def _first_sentence(node: etree._Element) -> str:
    text = " ".join((node.findtext(f"{{{XS}}}annotation/{{{XS}}}documentation") or "").split())
    return text.split(". ")[0].rstrip(".")


def _max_occurs(value: str) -> int | None:
    return None if value == "unbounded" else int(value)


_XS_TYPE = f"{{{XS}}}"


class _Reader:
    """One pass over the xsd files: the definitions by name, then the index built from them."""

    def __init__(self) -> None:
        self.elements: dict[str, str] = {}
        self.element_nillable: dict[str, bool] = {}
        self.element_types: dict[str, etree._Element] = {}
        self.groups: dict[str, etree._Element] = {}
        self.complex_defs: dict[str, etree._Element] = {}
        self.simple_defs: dict[str, etree._Element] = {}
        for path in schema_files():
            root = parse_contract_file(path).getroot()
            tns = root.get("targetNamespace", "")
            for el in root.iterfind(f"{{{XS}}}element"):
                name = f"{{{tns}}}{el.get('name')}"
                self.element_nillable[name] = el.get("nillable") == "true"
                if el_type := el.get("type"):
                    self.elements[name] = _qname(el_type, el)
                elif (own := el.find(f"{{{XS}}}complexType")) is not None:
                    self.element_types[name] = own
            for grp in root.iterfind(f"{{{XS}}}group"):
                self.groups[f"{{{tns}}}{grp.get('name')}"] = grp
            for ct in root.iterfind(f"{{{XS}}}complexType"):
                self.complex_defs[f"{{{tns}}}{ct.get('name')}"] = ct
            for st in root.iterfind(f"{{{XS}}}simpleType"):
                self.simple_defs[f"{{{tns}}}{st.get('name')}"] = st
        self.simple: dict[str, SimpleType] = {}

    def index(self) -> TypeIndex:
        for name in self.simple_defs:
            self.simple_type(name)
        return TypeIndex(
            elements=self.elements,
            children={name: tuple(self.particles(ct)) for name, ct in self.complex_defs.items()},
            simple=self.simple,
            element_types={name: tuple(self.particles(ct)) for name, ct in self.element_types.items()},
        )

    def simple_type(self, name: str) -> SimpleType:
        if name in self.simple:
            return self.simple[name]
        st = self.simple_defs[name]
        restriction = st.find(f"{{{XS}}}restriction")
        values: dict[str, list[str]] = {}
        if restriction is None:
            parent = SimpleType(name="", builtin="")
        else:
            base = _qname(restriction.get("base", ""), restriction)
            if base.startswith(_XS_TYPE):
                parent = SimpleType(name="", builtin=base[len(_XS_TYPE):])
            elif base in self.simple_defs:
                parent = self.simple_type(base)
            else:
                parent = SimpleType(name="", builtin="")
            for facet in restriction:
                if isinstance(facet.tag, str) and facet.tag != f"{{{XS}}}annotation":
                    values.setdefault(local_name(facet.tag), []).append(facet.get("value", ""))

        def number(facet: str, inherited: int | None) -> int | None:
            return int(values[facet][0]) if facet in values else inherited

        found = SimpleType(
            name=st.get("name", ""),
            builtin=parent.builtin,
            length=number("length", parent.length),
            min_length=number("minLength", parent.min_length),
            max_length=number("maxLength", parent.max_length),
            min_inclusive=values["minInclusive"][0] if "minInclusive" in values else parent.min_inclusive,
            max_inclusive=values["maxInclusive"][0] if "maxInclusive" in values else parent.max_inclusive,
            enumeration=tuple(values["enumeration"]) if "enumeration" in values else parent.enumeration,
            patterns=parent.patterns + ((tuple(values["pattern"]),) if "pattern" in values else ()),
            facet_names=parent.facet_names | values.keys(),
            doc=_first_sentence(st),
        )
        self.simple[name] = found
        return found

    def particles(self, node: etree._Element) -> list[Child]:
        """The elements below ``node``, in order, through groups, sequences and base types."""
        out: list[Child] = []
        for child in node:
            if child.tag == f"{{{XS}}}element":
                min_occurs = int(child.get("minOccurs", "1"))
                max_occurs = _max_occurs(child.get("maxOccurs", "1"))
                if ref_name := child.get("ref"):
                    ref = _qname(ref_name, child)
                    nillable = self.element_nillable.get(ref, False)
                    out.append(Child(ref, self.elements.get(ref, ""), min_occurs, max_occurs, nillable))
                else:
                    type_name = _qname(child.get("type", "xs:anyType"), child)
                    nillable = child.get("nillable") == "true"
                    out.append(Child(child.get("name", ""), type_name, min_occurs, max_occurs, nillable))
            elif child.tag == f"{{{XS}}}group" and (group_ref := child.get("ref")):
                out.extend(self.particles(self.groups[_qname(group_ref, child)]))
            elif child.tag == f"{{{XS}}}extension":
                base = self.complex_defs.get(_qname(child.get("base", ""), child))
                if base is not None:
                    out.extend(self.particles(base))
                out.extend(self.particles(child))
            elif isinstance(child.tag, str) and child.tag != f"{{{XS}}}annotation":
                out.extend(self.particles(child))  # sequence, choice, all, complexContent
        return out


@functools.lru_cache(maxsize=1)
def type_index() -> TypeIndex:
    """The index of every ``xsd/*.xsd`` file, built by the first caller and kept."""
    return _Reader().index()
