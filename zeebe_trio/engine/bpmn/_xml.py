"""Safe loading of untrusted BPMN bytes into an lxml tree.

Deployments come from any client, so the parser never loads a DTD, never resolves an entity,
never touches the network and keeps libxml2's size limits; a document with a DOCTYPE at all is
refused, which also refuses every entity-expansion and external-entity trick.
"""

from __future__ import annotations

from lxml import etree

from ._errors import BpmnValidationError, Problem

__all__ = ["BPMN_NS", "ZEEBE_NS", "load_definitions", "bpmn", "zeebe"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"


def bpmn(local_name: str) -> str:
    return f"{{{BPMN_NS}}}{local_name}"


def zeebe(local_name: str) -> str:
    return f"{{{ZEEBE_NS}}}{local_name}"


def _new_parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers keep state and are not safe to share across threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _fail(resource_name: str, message: str) -> BpmnValidationError:
    return BpmnValidationError(resource_name, [Problem(message)])


def load_definitions(resource_name: str, data: bytes) -> etree._Element:
    """Parse ``data`` and return its ``bpmn:definitions`` root, or raise BpmnValidationError."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"BPMN resource data must be bytes, not {type(data).__name__}")
    if not data.strip():
        raise _fail(resource_name, "the resource is empty; expected BPMN 2.0 XML")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _new_parser()))
    except etree.XMLSyntaxError as e:
        raise _fail(resource_name, f"not well-formed XML: {_syntax_message(e)}") from None
    except (etree.LxmlError, ValueError) as e:
        raise _fail(resource_name, f"cannot be read as XML: {e}") from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _fail(
            resource_name,
            "DOCTYPE declarations (DTDs and entities) are not allowed in BPMN resources; remove the <!DOCTYPE ...>",
        )
    root = tree.getroot()
    if root is None or not isinstance(root.tag, str):
        raise _fail(resource_name, "no root element; expected BPMN 2.0 XML")
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


def _syntax_message(error: etree.XMLSyntaxError) -> str:
    message = " ".join(str(error.msg or error).split()) or "syntax error"
    if error.lineno and "line" not in message:
        message += f" (line {error.lineno})"
    return message
