"""Safe loading of untrusted XML (BPMN and DMN resources) into an lxml tree.

Deployments come from any client, so the parser never loads a DTD, never resolves an entity, never
touches the network and keeps libxml2's size limits; a document with a DOCTYPE at all is refused,
which also refuses every entity-expansion and external-entity trick. ``load_root`` says what is wrong
in one sentence (``UntrustedXmlError``); each format's parser turns it into its own error.
"""

from __future__ import annotations

from lxml import etree

__all__ = ["UntrustedXmlError", "load_root"]


class UntrustedXmlError(ValueError):
    """The bytes are not a document the engine reads: the message says why, naming ``kind``."""


def _new_parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers keep state and are not safe to share across threads.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def _syntax_message(error: etree.XMLSyntaxError) -> str:
    message = " ".join(str(error.msg or error).split()) or "syntax error"
    if error.lineno and "line" not in message:
        message += f" (line {error.lineno})"
    return message


def load_root(data: bytes | str | bytearray | memoryview, kind: str, expected: str) -> etree._Element:
    """The root element of ``data``, a ``kind`` resource ('BPMN', 'DMN'; ``expected`` names the format
    in messages, e.g. 'BPMN 2.0 XML'). Raises ``UntrustedXmlError``, or TypeError for data that is not
    bytes or text."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"{kind} resource data must be bytes, not {type(data).__name__}")
    if not data.strip():
        raise UntrustedXmlError(f"the resource is empty; expected {expected}")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _new_parser()))
    except etree.XMLSyntaxError as e:
        raise UntrustedXmlError(f"not well-formed XML: {_syntax_message(e)}") from None
    except (etree.LxmlError, ValueError) as e:
        raise UntrustedXmlError(f"cannot be read as XML: {e}") from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UntrustedXmlError(f"DOCTYPE declarations (DTDs and entities) are not allowed in {kind} resources;"
                                " remove the <!DOCTYPE ...>")
    root = tree.getroot()
    if root is None or not isinstance(root.tag, str):
        raise UntrustedXmlError(f"no root element; expected {expected}")
    return root
