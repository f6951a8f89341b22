"""The published contract of both services, read from our WSDL and XSD files once.

Nothing here imports spyne or reads anything but the package data of ``lrs_ws.wsdl`` and
``lrs_ws.xsd``; everything built from them is cached for the life of the process:

* :func:`single_wsdl` -- the WSDL with every schema inlined and ``soap:address`` set to the
  public URL (what ``?wsdl`` / ``?singlewsdl`` serve);
* :func:`message_schema` -- one :class:`lxml.etree.XMLSchema` over all our XSD files;
* :func:`validate_body_element` -- validate a SOAP Body child against it (as the server screens
  every request), raising :class:`ContractViolation` with the offending field and a readable reason;
* :func:`parser` -- an lxml parser safe for untrusted input; :func:`request_parser` -- the same,
  reading every value as its XML string value (the server's);
* :func:`type_index` -- what the XSD files declare: elements, the children of complex types in
  order (with their occurrences), the facets of simple types (lengths, patterns, enumerations,
  documentation);
* :mod:`lrs_ws.contract.namespaces` -- every XML namespace; :mod:`lrs_ws.contract.learner_fields`
  -- the learner's fields as the XSD orders and bounds them.
"""
from lrs_ws.contract.files import CONTRACT_ROOT, WSDL_DIR, XSD_DIR, schema_files, wsdl_path
from lrs_ws.contract.parsing import SAFE_PARSING, parser, request_parser
from lrs_ws.contract.validation import ContractViolation, message_schema, validate_body_element, violations
from lrs_ws.contract.wsdl import single_wsdl
from lrs_ws.contract.xsd_types import Child, SimpleType, TypeIndex, type_index

__all__ = [
    "CONTRACT_ROOT",
    "SAFE_PARSING",
    "WSDL_DIR",
    "XSD_DIR",
    "Child",
    "ContractViolation",
    "SimpleType",
    "TypeIndex",
    "message_schema",
    "parser",
    "request_parser",
    "schema_files",
    "single_wsdl",
    "type_index",
    "validate_body_element",
    "violations",
    "wsdl_path",
]
