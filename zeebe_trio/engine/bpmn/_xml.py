"""BPMN's namespaces, and loading a BPMN resource's ``bpmn:definitions`` root safely (through
``engine._untrusted_xml``: no DTDs, entities or network)."""

from __future__ import annotations

from lxml import etree

from .._untrusted_xml import UntrustedXmlError, load_root
from ._errors import BpmnValidationError, Problem

__all__ = ["BPMN_NS", "ZEEBE_NS", "load_definitions", "bpmn", "zeebe"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"


def bpmn(local_name: str) -> str:
    return f"{{{BPMN_NS}}}{local_name}"


def zeebe(local_name: str) -> str:
    return f"{{{ZEEBE_NS}}}{local_name}"


def _fail(resource_name: str, message: str) -> BpmnValidationError:
    return BpmnValidationError(resource_name, [Problem(message)])


def load_definitions(resource_name: str, data: bytes) -> etree._Element:
    """Parse ``data`` and return its ``bpmn:definitions`` root, or raise BpmnValidationError."""
    try:
        root = load_root(data, "BPMN", "BPMN 2.0 XML")
    except UntrustedXmlError as error:
        raise _fail(resource_name, str(error)) from None
    if root.tag != bpmn("definitions"):
        qname = etree.QName(root)
        found = f"'{qname.localname}'" + (
            f" in namespace '{qname.namespace}'" if qname.namespace else " without namespace"
        )
        raise _fail(
            resource_name,
            f"the root element must be 'definitions' in namespace '{BPMN_NS}' (BPMN 2.0), found {found}",
        )
    return root
