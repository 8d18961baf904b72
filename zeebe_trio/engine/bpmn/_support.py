"""Which BPMN features a deployment may use: the one place the parser's gating is decided.

The syntax layer (``_parser``) reads every element Zeebe 8.8 executes; ``parse_bpmn`` then refuses
every element whose feature is not in its ``supported`` set with "... is not supported yet by
zeebe-trio" and a hint listing what is (derived from the set by ``supported_summary``). Engine work
widens ``SUPPORTED`` one line per feature as the processors land; ``ALL_FEATURES`` is everything the
syntax layer knows, for tests of the syntax layer itself.

A feature is either an element key ``(ElementType, event kind)`` — the kind being the trigger word of
its event definition ("timer", "message", "signal", "error", "escalation", "compensation", "link",
"terminate", "conditional") or None for none events and every non-event — or one of the flag strings
below for characteristics that any activity may have.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._model import ElementType

__all__ = [
    "Feature",
    "ElementFeature",
    "MULTI_INSTANCE",
    "EXECUTION_LISTENERS",
    "COMPENSATION_HANDLERS",
    "AD_HOC_SUB_PROCESS",
    "SCRIPT_EXPRESSION",
    "CALLED_DECISION",
    "SUPPORTED",
    "ALL_FEATURES",
    "supported_summary",
]

ElementFeature = tuple[ElementType, str | None]
Feature = ElementFeature | str

#: bpmn:multiInstanceLoopCharacteristics on any activity.
MULTI_INSTANCE = "multi-instance"
#: zeebe:executionListeners on the process or any element.
EXECUTION_LISTENERS = "execution listeners"
#: isForCompensation="true" activities.
COMPENSATION_HANDLERS = "compensation handlers"
#: bpmn:adHocSubProcess, from before it had an element type of its own: the parser still accepts
#: this flag for the element key ``(AD_HOC_SUB_PROCESS, None)``.
AD_HOC_SUB_PROCESS = "ad-hoc sub processes"
#: A script task's zeebe:script (FEEL) instead of a zeebe:taskDefinition.
SCRIPT_EXPRESSION = "zeebe:script"
#: A business rule task's zeebe:calledDecision instead of a zeebe:taskDefinition.
CALLED_DECISION = "zeebe:calledDecision"

_T = ElementType

#: What zeebe-trio executes today (the deployment behaviour before the syntax layer grew).
SUPPORTED: frozenset[Feature] = frozenset(
    {
        (_T.START_EVENT, None),
        (_T.END_EVENT, None),
        (_T.TASK, None),
        (_T.MANUAL_TASK, None),
        (_T.SERVICE_TASK, None),
        (_T.SEND_TASK, None),
        (_T.BUSINESS_RULE_TASK, None),
        (_T.SCRIPT_TASK, None),
        (_T.EXCLUSIVE_GATEWAY, None),
        (_T.PARALLEL_GATEWAY, None),
        (_T.SUB_PROCESS, None),
        (_T.CALL_ACTIVITY, None),
        (_T.EVENT_SUB_PROCESS, None),
        (_T.INTERMEDIATE_CATCH_EVENT, "timer"),
        (_T.BOUNDARY_EVENT, "timer"),
        (_T.BOUNDARY_EVENT, "error"),
        (_T.START_EVENT, "timer"),
        (_T.START_EVENT, "error"),
        (_T.END_EVENT, "error"),
        (_T.INCLUSIVE_GATEWAY, None),
        (_T.INTERMEDIATE_THROW_EVENT, None),
        (_T.END_EVENT, "terminate"),
        (_T.INTERMEDIATE_THROW_EVENT, "link"),
        (_T.INTERMEDIATE_CATCH_EVENT, "link"),
        (_T.USER_TASK, None),
        SCRIPT_EXPRESSION,
        EXECUTION_LISTENERS,
        (_T.START_EVENT, "signal"),
        (_T.INTERMEDIATE_CATCH_EVENT, "signal"),
        (_T.BOUNDARY_EVENT, "signal"),
        (_T.INTERMEDIATE_THROW_EVENT, "signal"),
        (_T.END_EVENT, "signal"),
        (_T.INTERMEDIATE_THROW_EVENT, "escalation"),
        (_T.END_EVENT, "escalation"),
        (_T.BOUNDARY_EVENT, "escalation"),
        (_T.START_EVENT, "escalation"),
        (_T.EVENT_BASED_GATEWAY, None),
        (_T.START_EVENT, "message"),
        (_T.INTERMEDIATE_CATCH_EVENT, "message"),
        (_T.BOUNDARY_EVENT, "message"),
        (_T.RECEIVE_TASK, None),
        (_T.INTERMEDIATE_THROW_EVENT, "message"),
        (_T.END_EVENT, "message"),
        MULTI_INSTANCE,
        (_T.BOUNDARY_EVENT, "compensation"),
        (_T.INTERMEDIATE_THROW_EVENT, "compensation"),
        (_T.END_EVENT, "compensation"),
        COMPENSATION_HANDLERS,
        (_T.AD_HOC_SUB_PROCESS, None),
        CALLED_DECISION,
    }
)

#: Everything the syntax layer reads (what Zeebe 8.8 executes, conditional events included).
ALL_FEATURES: frozenset[Feature] = SUPPORTED | frozenset(
    {
        (_T.START_EVENT, "message"),
        (_T.START_EVENT, "timer"),
        (_T.START_EVENT, "signal"),
        (_T.START_EVENT, "error"),
        (_T.START_EVENT, "escalation"),
        (_T.START_EVENT, "compensation"),
        (_T.START_EVENT, "conditional"),
        (_T.INTERMEDIATE_CATCH_EVENT, "message"),
        (_T.INTERMEDIATE_CATCH_EVENT, "timer"),
        (_T.INTERMEDIATE_CATCH_EVENT, "signal"),
        (_T.INTERMEDIATE_CATCH_EVENT, "link"),
        (_T.INTERMEDIATE_CATCH_EVENT, "conditional"),
        (_T.INTERMEDIATE_THROW_EVENT, None),
        (_T.INTERMEDIATE_THROW_EVENT, "message"),
        (_T.INTERMEDIATE_THROW_EVENT, "signal"),
        (_T.INTERMEDIATE_THROW_EVENT, "escalation"),
        (_T.INTERMEDIATE_THROW_EVENT, "compensation"),
        (_T.INTERMEDIATE_THROW_EVENT, "link"),
        (_T.BOUNDARY_EVENT, "message"),
        (_T.BOUNDARY_EVENT, "timer"),
        (_T.BOUNDARY_EVENT, "signal"),
        (_T.BOUNDARY_EVENT, "error"),
        (_T.BOUNDARY_EVENT, "escalation"),
        (_T.BOUNDARY_EVENT, "compensation"),
        (_T.BOUNDARY_EVENT, "conditional"),
        (_T.END_EVENT, "message"),
        (_T.END_EVENT, "signal"),
        (_T.END_EVENT, "error"),
        (_T.END_EVENT, "escalation"),
        (_T.END_EVENT, "compensation"),
        (_T.END_EVENT, "terminate"),
        (_T.USER_TASK, None),
        (_T.RECEIVE_TASK, None),
        (_T.INTERMEDIATE_THROW_EVENT, "message"),
        (_T.END_EVENT, "message"),
        (_T.CALL_ACTIVITY, None),
        (_T.SUB_PROCESS, None),
        (_T.EVENT_SUB_PROCESS, None),
        (_T.INCLUSIVE_GATEWAY, None),
        (_T.EVENT_BASED_GATEWAY, None),
        MULTI_INSTANCE,
        EXECUTION_LISTENERS,
        COMPENSATION_HANDLERS,
        AD_HOC_SUB_PROCESS,
        SCRIPT_EXPRESSION,
        CALLED_DECISION,
        (_T.AD_HOC_SUB_PROCESS, None),
    }
)

# -- the hint ---------------------------------------------------------------------------------------

# Event element types in the order the summary names them, and how it names them.
_EVENT_WORDS = {
    _T.START_EVENT: "start",
    _T.INTERMEDIATE_CATCH_EVENT: "intermediate catch",
    _T.INTERMEDIATE_THROW_EVENT: "intermediate throw",
    _T.BOUNDARY_EVENT: "boundary",
    _T.END_EVENT: "end",
}
_EVENT_KINDS = (
    None,
    "message",
    "timer",
    "signal",
    "error",
    "escalation",
    "compensation",
    "link",
    "terminate",
    "conditional",
)
_JOB_WORKER_WORDS = {
    _T.SERVICE_TASK: "service",
    _T.SEND_TASK: "send",
    _T.BUSINESS_RULE_TASK: "business rule",
    _T.SCRIPT_TASK: "script",
}
_OTHER_ELEMENT_WORDS = {
    _T.TASK: "undefined tasks (bpmn:task)",
    _T.MANUAL_TASK: "manual tasks",
    # job worker tasks come here
    _T.USER_TASK: "user tasks",
    _T.RECEIVE_TASK: "receive tasks",
    _T.CALL_ACTIVITY: "call activities",
    _T.SUB_PROCESS: "embedded sub processes",
    _T.EVENT_SUB_PROCESS: "event sub processes",
    _T.AD_HOC_SUB_PROCESS: "ad-hoc sub processes",
}
_GATEWAY_WORDS = {
    _T.EXCLUSIVE_GATEWAY: "exclusive",
    _T.PARALLEL_GATEWAY: "parallel",
    _T.INCLUSIVE_GATEWAY: "inclusive",
    _T.EVENT_BASED_GATEWAY: "event-based",
}
_FLAG_WORDS = {
    AD_HOC_SUB_PROCESS: AD_HOC_SUB_PROCESS,
    SCRIPT_EXPRESSION: "script tasks with a zeebe:script",
    CALLED_DECISION: "business rule tasks with a zeebe:calledDecision",
    MULTI_INSTANCE: "multi-instance activities",
    EXECUTION_LISTENERS: "execution listeners",
    COMPENSATION_HANDLERS: "compensation handlers",
}


def _and(words: Iterable[str]) -> str:
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def supported_summary(supported: frozenset[Feature]) -> str:
    """The hint a rejection states once: what ``supported`` lets a process use, and what to do."""
    items: list[str] = []
    for kind in _EVENT_KINDS:
        types = [word for t, word in _EVENT_WORDS.items() if (t, kind) in supported]
        if types:
            items.append(f"{kind or 'none'} {_and(types)} events")
    others = list(_OTHER_ELEMENT_WORDS.items())
    for element_type, phrase in others[:2]:
        if (element_type, None) in supported:
            items.append(phrase)
    job_workers = [word for t, word in _JOB_WORKER_WORDS.items() if (t, None) in supported]
    if job_workers:
        items.append(f"job worker tasks ({_and(job_workers)} tasks with a zeebe:taskDefinition)")
    for element_type, phrase in others[2:]:
        if (element_type, None) in supported:
            items.append(phrase)
    gateways = [word for t, word in _GATEWAY_WORDS.items() if (t, None) in supported]
    if gateways:
        items.append(f"{_and(gateways)} gateways")
    # (the ad-hoc flag and element key say the same: named once)
    items.extend(phrase for flag, phrase in _FLAG_WORDS.items() if flag in supported and phrase not in items)
    items.append("sequence flows")
    return (
        f"zeebe-trio supports only {_and(items)}; remove or replace the elements that are not supported yet"
    )
