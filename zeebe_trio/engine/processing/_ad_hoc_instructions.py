"""AD_HOC_SUB_PROCESS_INSTRUCTION ACTIVATE: a client activates elements of a running ad-hoc subprocess
(Zeebe's ``AdHocSubProcessInstructionActivateProcessor``).

The command names the ad-hoc subprocess's element instance (``adHocSubProcessInstanceKey``) and the
elements to activate (``activateElements``: ``elementId`` and optional ``variables``, which become the
local variables of the element's inner instance). Each element is activated in an inner instance of its
own, as ``activeElementsCollection`` activates them, then ACTIVATED is written and answered. Refused, with
Zeebe's reasons, when the subprocess instance does not exist (NOT_FOUND), is not active (INVALID_STATE),
when an element is given twice (INVALID_ARGUMENT) or is no ad-hoc activity of it (NOT_FOUND); and when
the subprocess would hold more element instances than a flow scope may (INVALID_ARGUMENT).
"""

from __future__ import annotations

from zeebe_trio.protocol import (
    AdHocSubProcessInstructionIntent,
    BpmnElementType,
    Record,
    RejectionType,
    ValueType,
    excerpt,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.behaviors import ElementContext
from ..bpmn.elements.containers import AdHocSubProcessProcessor
from ..bpmn.model import ExecutableAdHocSubProcess

__all__ = ["AdHocSubProcessInstructionProcessors"]

_INSTRUCTION = ValueType.AD_HOC_SUB_PROCESS_INSTRUCTION
_A = AdHocSubProcessInstructionIntent


_MAX_KEY = (1 << 63) - 1


def _instance_key(raw: object) -> int | None:
    """The element instance key the command names (a number, or Zeebe's string form of one), if it is one."""
    if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) <= 19:
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw <= _MAX_KEY:
        return raw
    return None


class AdHocSubProcessInstructionProcessors:
    def __init__(self, ad_hoc: AdHocSubProcessProcessor) -> None:
        self.ad_hoc = ad_hoc

    def register(self, processors: CommandProcessors) -> None:
        processors.add(_INSTRUCTION, _A.ACTIVATE, self.activate)

    def activate(self, batch: Batch, command: Record) -> None:
        value = command.value
        raw = value.get("adHocSubProcessInstanceKey")
        key = _instance_key(raw)
        shown = str(key) if key is not None else excerpt(raw).strip("'")
        instance = batch.state.element_instance(key) if key is not None else None
        if instance is None or instance.element_type is not BpmnElementType.AD_HOC_SUB_PROCESS:
            batch.reject(command, RejectionType.NOT_FOUND,
                         "Expected to activate activities for ad-hoc sub-process but no ad-hoc sub-process instance"
                         f" found with key '{shown}'.")
            return
        if not instance.is_active:
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to activate activities for ad-hoc sub-process with key '{shown}', but it is not"
                         " active.")
            return
        elements = value.get("activateElements") or []
        if not isinstance(elements, list) or not all(
                isinstance(e, dict) and isinstance(e.get("elementId"), str)
                and isinstance(e.get("variables") or {}, dict) for e in elements):
            batch.reject(command, RejectionType.INVALID_ARGUMENT,
                         f"Expected to activate activities for ad-hoc sub-process with key '{shown}' given as a list"
                         " of objects with an 'elementId' string and optional 'variables' object.")
            return
        ids = [element["elementId"] for element in elements]
        if len(set(ids)) != len(ids):
            batch.reject(command, RejectionType.INVALID_ARGUMENT,
                         f"Expected to activate activities for ad-hoc sub-process with key '{shown}', but duplicate"
                         " activities were given.")
            return
        process = batch.state.processes.get(instance.process_definition_key)
        assert process is not None, f"process definition {instance.process_definition_key} is not deployed"
        ad_hoc = process.flow_node(instance.element_id, BpmnElementType.AD_HOC_SUB_PROCESS)
        assert isinstance(ad_hoc, ExecutableAdHocSubProcess)
        unknown = [element_id for element_id in ids if element_id not in ad_hoc.ad_hoc_activities]
        if unknown:
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to activate activities for ad-hoc sub-process with key '{shown}', but the given"
                         f" elements [{', '.join(unknown)}] do not exist.")
            return
        limit = self.ad_hoc.transitions.max_element_instances_per_scope
        if instance.child_count + len(ids) > limit:  # Zeebe has no such bound; here every flow scope has one
            batch.reject(command, RejectionType.INVALID_ARGUMENT,
                         f"Expected to activate {len(ids)} activities for ad-hoc sub-process with key '{shown}', but"
                         f" it holds {instance.child_count} element instances already and a flow scope may hold at most"
                         f" {limit} (max_element_instances_per_scope); activate fewer at once")
            return
        context = ElementContext(instance.key, instance.value)
        for element in elements:
            self.ad_hoc.activate_element(batch, ad_hoc, context, element["elementId"], element.get("variables") or {})
        activated = batch.event(_INSTRUCTION, _A.ACTIVATED, command.key, value)
        batch.respond(command, activated)
