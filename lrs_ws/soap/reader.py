"""Requests read straight from lxml: spyne's own rules for our wire models, compiled once.

The reading twin of :mod:`lrs_ws.soap.writer`. spyne's generic deserializer dispatches every
element through its protocol (attribute lookups, a frequency count, a handler per leaf): a
sixth of a find's time. For each request model :func:`plan_for` works out once what spyne's
``complex_from_element`` would do with each child (which member its local name sets, whether
it repeats, how its text becomes a value, whether it is a nested model) and :func:`read` then
does only that. Leaves go through spyne's own text handler for their type, so a value is the
one spyne would make. Whatever we do not compile (xsi:type, attributes other than xsi:nil,
defaults, read-only members) is left to spyne: :func:`read` raises :class:`NotCompiled`. The
contract tests read every request both ways and compare the objects
(`requests_read_both_ways` in tests/contract/conftest.py).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

with warnings.catch_warnings():  # spyne 2.14 imports deprecated modules
    warnings.simplefilter("ignore")
    from spyne import ComplexModelBase, ModelBase, Unicode
    from spyne.protocol import ProtocolBase

from lrs_ws.contract.namespaces import XSI

_NIL = f"{{{XSI}}}nil"


class NotCompiled(Exception):
    """This request holds something the compiled reader leaves to spyne."""


@dataclass(frozen=True)
class _Member:
    key: str
    repeats: bool
    text: Callable[[str | None], Any] | None  # a leaf's value from its text; None for a nested model
    nested: Plan | None


@dataclass(frozen=True)
class Plan:
    make: type  # the class spyne instantiates (a customized model's original)
    keys: frozenset[str]
    members: dict[str, _Member]  # by every local name spyne takes for the member


_PLANS = "_lrs_ws_read_plans"  # a protocol's plans, kept on it: a plan holds its handlers


def plan_for(cls: type[ModelBase], protocol: ProtocolBase) -> Plan | None:
    """The compiled plan of a request model as `protocol` reads it, or None when the model uses
    anything we do not compile: spyne then reads it itself."""
    plans: dict[type, Plan | None] = protocol.__dict__.setdefault(_PLANS, {})
    if cls not in plans:
        plans[cls] = None  # while compiling (no recursive models here)
        plans[cls] = _compile(cls, protocol)
    return plans[cls]


def _compile(cls: type[ModelBase], protocol: ProtocolBase) -> Plan | None:
    if not (isinstance(cls, type) and issubclass(cls, ComplexModelBase)) or getattr(cls, "__extends__", None) is not None:
        return None
    attributes = protocol.get_cls_attrs(cls)
    if attributes._xml_tag_body_as is not None or attributes.default is not None:
        return None
    flat = cls.get_flat_type_info(cls)
    members: dict[str, _Member] = {}
    for key, member in flat.items():
        member_attributes = protocol.get_cls_attrs(member)
        if member_attributes.read_only or member_attributes.default is not None:
            return None
        if isinstance(member, type) and issubclass(member, ComplexModelBase):
            nested = plan_for(member, protocol)
            if nested is None:
                return None
            compiled = _Member(key, member_attributes.max_occurs > 1, None, nested)
        else:
            text = _leaf(member, member_attributes, protocol)
            if text is None:
                return None
            compiled = _Member(key, member_attributes.max_occurs > 1, text, None)
        members[key] = compiled
    for name, (_, key) in cls._type_info_alt.items():  # spyne's other names for members
        local = name.rpartition("}")[2]
        if local in members:
            continue  # spyne finds the member by this local name first
        if "}" in name:
            return None  # only a qualified tag names it: spyne's own lookup order decides
        members[name] = members[key]
    make = cls.__orig__ if cls.__orig__ is not None else cls
    return Plan(make, frozenset(flat), members)


def _leaf(member: type, attributes: Any, protocol: ProtocolBase) -> Callable[[str | None], Any] | None:
    """A leaf's value from an element's text, as spyne's unicode_from_element (Unicode: no text
    is "") or base_from_element (the rest: no text is None), then from_unicode."""
    try:
        handler = protocol._from_unicode_handlers[member]
    except KeyError:
        return None
    empty_is_none = bool(attributes.empty_is_none)
    if issubclass(member, Unicode):
        if getattr(handler, "__func__", None) is not type(protocol).unicode_from_bytes:
            return None  # only the handler that gives a str back as it is compiles to nothing

        def unicode_text(text: str | None) -> Any:
            if not text:
                return None if empty_is_none else ""
            return text

        return unicode_text

    def other_text(text: str | None) -> Any:
        if text is None or (not text and empty_is_none):
            return None
        return handler(member, text)

    return other_text


def read(plan: Plan, element: etree._Element) -> Any:
    """The model instance spyne's from_element would make of `element`; NotCompiled for what
    only spyne reads."""
    attributes = element.attrib
    if attributes:
        if len(attributes) > 1 or _NIL not in attributes:
            raise NotCompiled
        if attributes[_NIL]:  # as spyne: any non-empty xsi:nil, "false" too, is nil
            return None
    inst = plan.make.__new__(plan.make)  # type: ignore[call-overload]  # spyne is untyped: not type.__new__
    inst.__dict__.update(dict.fromkeys(plan.keys))
    values = inst.__dict__
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # comments and processing instructions
        member = plan.members.get(tag.rpartition("}")[2])
        if member is None:
            continue  # as spyne: an element it has no member for is passed over
        if member.nested is not None:
            value = read(member.nested, child)
        else:
            child_attributes = child.attrib
            if child_attributes:
                if len(child_attributes) > 1 or _NIL not in child_attributes:
                    raise NotCompiled
                value = None if child_attributes[_NIL] else member.text(child.text)  # type: ignore[misc]
            else:
                value = member.text(child.text)  # type: ignore[misc]
        if member.repeats:
            existing = values[member.key]
            if existing is None:
                values[member.key] = [value]
            else:
                existing.append(value)
        else:
            values[member.key] = value
    return inst
