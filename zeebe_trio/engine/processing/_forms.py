"""Form resources (``.form`` files, Camunda Form JSON) as DEPLOYMENT.CREATE reads them.

A form's ``id`` field is its form id (the key of its versions, what a user task's
``zeebe:formDefinition formId`` names); an optional ``versionTag`` field is its version tag. Everything
else in the JSON is the form's business (Tasklist renders it); the engine keeps the bytes as deployed.
The checks and their messages are those of Zeebe's ``FormResourceTransformer``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from zeebe_trio.protocol import excerpt

from .._limits import MAX_ID_LENGTH, key_problem
from ..bpmn import resource_label

__all__ = ["FORM_SUFFIX", "FormResource", "FormResourceError", "form_metadata",
           "parse_form"]

FORM_SUFFIX = ".form"
_ANY_KEY = 0  # an integer state key part (a version or a deployment key)


class FormResourceError(ValueError):
    """A ``.form`` resource that cannot be deployed; the message is one rejection line."""


@dataclass(frozen=True, slots=True)
class FormResource:
    resource_name: str
    resource: bytes
    checksum: str
    form_id: str
    version_tag: str


def _scalar_text(value: Any) -> str | None:
    """A JSON scalar as the string Zeebe's JSON mapper makes of it (None for null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise TypeError(type(value).__name__)


def parse_form(resource_name: str, resource: bytes, tenant_id: str) -> FormResource:
    """The form id and version tag of a form resource; FormResourceError if it has none or is not JSON."""
    label = resource_label(resource_name)
    try:
        document = json.loads(resource)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FormResourceError(f"Failed to parse form JSON. {label}: {error}") from None
    if not isinstance(document, dict):
        raise FormResourceError(f"Failed to parse form JSON. {label}: expected a JSON object, but found"
                                f" {type(document).__name__}")
    try:
        form_id = _scalar_text(document.get("id"))
        version_tag = _scalar_text(document.get("versionTag")) or ""
    except TypeError as error:
        raise FormResourceError(f"Failed to parse form JSON. {label}: expected the form's 'id' and 'versionTag'"
                                f" to be strings, but found {error}") from None
    if form_id is None:
        raise FormResourceError(f"{label}: Expected the form id to be present, but none given")
    if not form_id.strip():
        raise FormResourceError(f"{label}: Expected the form id to be filled, but it is blank")
    if len(form_id) > MAX_ID_LENGTH:
        raise FormResourceError(
            f"The ID of a form must not be longer than the configured max-id-length of {MAX_ID_LENGTH} characters,"
            f" but was {excerpt(form_id)} in resource {label}")
    too_long = (key_problem("the form id", form_id, tenant_id, form_id, _ANY_KEY)
                or key_problem("the form's version tag", version_tag, tenant_id, form_id, version_tag))
    if too_long:
        raise FormResourceError(f"{label}: {too_long}")
    checksum = hashlib.md5(resource, usedforsecurity=False).hexdigest()
    return FormResource(resource_name, resource, checksum, form_id, version_tag)


def form_metadata(form: FormResource, key: int, version: int, deployment_key: int, tenant_id: str, *,
                  duplicate: bool) -> dict[str, Any]:
    """A DEPLOYMENT record's ``formMetadata`` entry (a FORM CREATED value without the resource)."""
    return {
        "formId": form.form_id,
        "version": version,
        "versionTag": form.version_tag,
        "formKey": key,
        "resourceName": form.resource_name,
        "checksum": form.checksum,
        "isDuplicate": duplicate,
        "tenantId": tenant_id,
        "deploymentKey": deployment_key,
    }
