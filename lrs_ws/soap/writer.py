"""Responses written straight into lxml: spyne's own rules for our wire models, compiled once.

spyne's generic serializer looks up every member's attributes, runs a coroutine per complex
value and a handler per leaf on each response: a fifth of a find's time. For each model class
we use in a response, :func:`plan_for` works out once what spyne would do with each member (its
tag, whether it repeats, is sent nil when empty, or is a nested model) and :func:`write` then
does only that. The element tree is the one spyne builds (names, namespaces, order, text,
`xsi:nil`); only the prefixes lxml picks may differ. The contract tests write every response
both ways and compare them (`responses_written_both_ways` in tests/contract/conftest.py).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

with warnings.catch_warnings():  # spyne 2.14 imports deprecated modules
    warnings.simplefilter("ignore")
    from spyne import Boolean, ComplexModelBase, Fault, Integer, ModelBase, Unicode
    from spyne.const.xml import DEFAULT_NS

from lrs_ws.contract.namespaces import XSI

_NIL = f"{{{XSI}}}nil"


def _integer(value: Any) -> str:  # whatever the object holds: int() decides, as in spyne
    int(value)  # as spyne: refuse what is not a number
    return str(value)


def _string(value: object) -> str:
    return value if isinstance(value, str) else str(value)


# spyne's text of each kind of leaf we use (Integer64 is an Integer).
_LEAVES: tuple[tuple[type, Callable[[object], str]], ...] = (
    (Boolean, lambda value: str(bool(value)).lower()),
    (Integer, _integer),
    (Unicode, _string),
)


@dataclass(frozen=True)
class _Member:
    key: str
    tag: str  # {namespace}name, or the bare name when unqualified
    name: str
    namespace: str | None
    repeats: bool
    always: bool  # sent (nil when empty) even without a value
    text: Callable[[object], str] | None  # a leaf's text; None for a nested model
    model: type | None


@dataclass(frozen=True)
class Plan:
    namespace: str | None  # the element's own namespace when the model fixes it (sub_ns)
    members: tuple[_Member, ...]


_PLANS: dict[type, Plan | None] = {}
_MEMBERS: dict[type, frozenset[str]] = {}


def instance(cls: type[ComplexModelBase], **values: object) -> Any:
    """A wire object of `cls` with these members set and the rest None, without spyne's
    member-by-member __init__ (which costs more than writing the object out). An unknown member
    is a TypeError, as a typo should be."""
    members = _MEMBERS.get(cls)
    if members is None:
        members = _MEMBERS[cls] = frozenset(cls._type_info)
    if not values.keys() <= members:
        raise TypeError(f"{cls.__name__} has no member {sorted(values.keys() - members)}")
    obj = cls.__new__(cls)  # type: ignore[call-overload]  # spyne is untyped: this is not type.__new__
    obj.__dict__.update(dict.fromkeys(members), **values)
    return obj


def _leaf(cls: type) -> Callable[[object], str] | None:
    for base, text in _LEAVES:
        if issubclass(cls, base):
            return text
    return None


def plan_for(cls: type[ModelBase]) -> Plan | None:
    """The compiled plan of a model class, or None when it uses anything we do not compile
    (attributes, defaults, polymorphism...): spyne then writes it itself."""
    if cls in _PLANS:
        return _PLANS[cls]
    _PLANS[cls] = None  # while compiling (no recursive models here)
    plan = _compile(cls)
    _PLANS[cls] = plan
    return plan


def _compile(cls: type[ModelBase]) -> Plan | None:
    if not (isinstance(cls, type) and issubclass(cls, ComplexModelBase)) or getattr(cls, "__extends__", None) is not None:
        return None
    if issubclass(cls, Fault) or cls.Attributes.default is not None:
        return None
    members = []
    for key, member in cls._type_info.items():
        attributes = member.Attributes
        if (
            attributes.exc
            or attributes.default is not None
            or getattr(attributes, "format", None)
            or getattr(attributes, "str_format", None)
        ):
            return None
        text = _leaf(member)
        model = None
        if text is None:
            if plan_for(member) is None:
                return None
            model = member
        namespace = attributes.sub_ns if attributes.sub_ns is not None else cls.get_namespace()
        name = attributes.sub_name or key
        members.append(_Member(
            key=key, tag=_tag(namespace, name), name=name, namespace=namespace,
            repeats=attributes.max_occurs > 1, always=attributes.min_occurs > 0, text=text, model=model,
        ))
    own = cls.Attributes.sub_ns
    return Plan(None if own in (None, DEFAULT_NS) else own, tuple(members))


def _tag(namespace: str | None, name: str) -> str:
    return f"{{{namespace}}}{name}" if namespace else name


def write(plan: Plan, inst: object, parent: etree._Element, namespace: str | None, name: str) -> None:
    """Append `inst` to `parent` as spyne's `to_parent` would (a None instance is nil)."""
    if plan.namespace is not None:
        namespace = plan.namespace
    element = etree.SubElement(parent, _tag(namespace, name))
    if inst is None:
        element.set(_NIL, "true")
        return
    for member in plan.members:
        value = getattr(inst, member.key, None)
        if value is None:
            if member.always:
                _write_value(member, None, element)  # nil
        elif member.repeats:
            for item in value:
                _write_value(member, item, element)
        else:
            _write_value(member, value, element)


def _write_value(member: _Member, value: object, parent: etree._Element) -> None:
    if member.model is not None:
        plan = _PLANS[member.model]
        assert plan is not None  # _compile took the model only with a plan
        write(plan, value, parent, member.namespace, member.name)
        return
    if value is None:
        etree.SubElement(parent, member.tag).set(_NIL, "true")
    else:
        assert member.text is not None  # a member without a model is a leaf
        etree.SubElement(parent, member.tag).text = member.text(value)
