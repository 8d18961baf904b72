"""Camunda Form resources and user tasks that link them, for tests of form deployment and user tasks."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import quoteattr

__all__ = ["form", "form_user_task"]


def form(form_id: str | None, *, version_tag: str | None = None, label: str = "Name", **fields: Any) -> bytes:
    """A Camunda Form JSON document with one text field (``label`` changes the content, not the id)."""
    document: dict[str, Any] = {
        "components": [{"label": label, "type": "textfield", "key": "name", "id": "Field_1"}],
        "type": "default",
        "schemaVersion": 16,
        "executionPlatform": "Camunda Cloud",
        "executionPlatformVersion": "8.8.0",
    }
    if form_id is not None:
        document["id"] = form_id
    if version_tag is not None:
        document["versionTag"] = version_tag
    document.update(fields)
    return json.dumps(document, indent=2).encode()


def form_user_task(task_id: str, form_id: str, *, zeebe_user_task: bool = True, binding_type: str | None = None,
                   version_tag: str | None = None) -> str:
    """A user task whose zeebe:formDefinition links the deployed form ``form_id``."""
    attributes = f"formId={quoteattr(form_id)}"
    if binding_type is not None:
        attributes += f" bindingType={quoteattr(binding_type)}"
    if version_tag is not None:
        attributes += f" versionTag={quoteattr(version_tag)}"
    user_task = "<zeebe:userTask/>" if zeebe_user_task else ""
    return (f'<bpmn:userTask id="{task_id}"><bpmn:extensionElements>{user_task}'
            f"<zeebe:formDefinition {attributes}/></bpmn:extensionElements></bpmn:userTask>")
