"""Event definitions as written: bpmn:*EventDefinition elements -> the frozen ``_model`` classes.

Reading resolves the root elements a definition references (bpmn:message, bpmn:signal, bpmn:error,
bpmn:escalation, by id among the children of bpmn:definitions) into their names and codes, and
reports what makes a definition unusable wherever it is used (a timer with no or two kinds of time,
static timer text that does not parse, a link without a name, an empty condition). Rules that depend
on where the event sits (a message catch needs a correlation key, an error end event an error code,
an intermediate timer a duration or date) are the parser's, which knows the element.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from ._errors import excerpt
from ._model import (
    CompensateEventDefinition,
    ConditionalEventDefinition,
    ErrorEventDefinition,
    EscalationEventDefinition,
    EventDefinition,
    LinkEventDefinition,
    MessageEventDefinition,
    SignalEventDefinition,
    TerminateEventDefinition,
    TimerEventDefinition,
)
from ._timers import TimerKind, TimerParseError, parse_timer
from ._xml import bpmn, zeebe

__all__ = ["RootElements", "read_event_definition", "read_message", "text_of"]

Report = Callable[[str], None]

_ROOT_TAGS = {bpmn("message"), bpmn("signal"), bpmn("error"), bpmn("escalation")}


def text_of(element: etree._Element) -> str:
    return "".join(element.itertext()).strip()


def _quoted(value: str) -> str:
    return "'" + excerpt(value, quote="'") + "'"


def _ref(value: str | None) -> str:
    # A QName reference may carry a prefix (tns:Message_1); ids never contain ':'.
    return (value or "").strip().rpartition(":")[2]


class RootElements:
    """The messages, signals, errors and escalations of a resource, by id."""

    def __init__(self, root: etree._Element) -> None:
        self._by_id: dict[tuple[str, str], etree._Element] = {}
        for child in root:
            if isinstance(child.tag, str) and child.tag in _ROOT_TAGS and child.get("id"):
                self._by_id.setdefault((child.tag, child.get("id") or ""), child)

    def find(self, local_name: str, ref: str | None) -> etree._Element | None:
        ref = _ref(ref)
        return self._by_id.get((bpmn(local_name), ref)) if ref else None


def read_message(roots: RootElements, message_ref: str | None) -> tuple[MessageEventDefinition, bool, int]:
    """The message ``message_ref`` names: (definition, whether it resolved, zeebe:subscription count)."""
    message = roots.find("message", message_ref)
    if message is None:
        return MessageEventDefinition(), False, 0
    name = message.get("name")
    subscriptions = []
    extensions = message.find(bpmn("extensionElements"))
    if extensions is not None:
        subscriptions = [e for e in extensions if e.tag == zeebe("subscription")]
    correlation_key = subscriptions[0].get("correlationKey") if subscriptions else None
    return (
        MessageEventDefinition(message_name=name, correlation_key=correlation_key),
        True,
        len(subscriptions),
    )


def read_event_definition(
    element: etree._Element, roots: RootElements, report: Report
) -> EventDefinition | None:
    """The definition ``element`` (a bpmn:*EventDefinition) stands for; None for kinds the syntax layer
    does not model (cancel). Problems of the definition itself go to ``report``."""
    tag = etree.QName(element).localname
    if tag == "timerEventDefinition":
        return _timer(element, report)
    if tag == "messageEventDefinition":
        definition, _, _ = read_message(roots, element.get("messageRef"))
        return definition
    if tag == "signalEventDefinition":
        signal = roots.find("signal", element.get("signalRef"))
        return SignalEventDefinition(signal_name=None if signal is None else signal.get("name"))
    if tag == "errorEventDefinition":
        error = roots.find("error", element.get("errorRef"))
        variables = _zeebe_error(element)
        return ErrorEventDefinition(
            error_code=None if error is None else error.get("errorCode"),
            error_code_variable=None if variables is None else variables.get("errorCodeVariable") or None,
            error_message_variable=None
            if variables is None
            else variables.get("errorMessageVariable") or None,
        )
    if tag == "escalationEventDefinition":
        escalation = roots.find("escalation", element.get("escalationRef"))
        return EscalationEventDefinition(
            escalation_code=None if escalation is None else escalation.get("escalationCode")
        )
    if tag == "compensateEventDefinition":
        wait = (element.get("waitForCompletion") or "true").strip().lower() != "false"
        return CompensateEventDefinition(
            activity_ref=_ref(element.get("activityRef")) or None, wait_for_completion=wait
        )
    if tag == "linkEventDefinition":
        name = element.get("name") or ""
        if not name.strip():
            report(
                "the link event definition must have a non-empty name; name the link (a throw and its catch share it)"
            )
        return LinkEventDefinition(name=name)
    if tag == "terminateEventDefinition":
        return TerminateEventDefinition()
    if tag == "conditionalEventDefinition":
        condition_element = element.find(bpmn("condition"))
        condition = text_of(condition_element) if condition_element is not None else ""
        if not condition or (condition.startswith("=") and not condition[1:].strip()):
            report(
                "the conditional event definition must have a non-empty condition; write a FEEL expression like '=x > 5'"
            )
            return ConditionalEventDefinition()
        return ConditionalEventDefinition(condition=condition)
    return None


def _zeebe_error(definition: etree._Element) -> etree._Element | None:
    """The zeebe:error (errorCodeVariable, errorMessageVariable) of an error catch: in the definition's
    extensionElements, or in its event's."""
    for owner in (definition, definition.getparent()):
        if owner is None:
            continue
        extensions = owner.find(bpmn("extensionElements"))
        if extensions is not None:
            found = extensions.find(zeebe("error"))
            if found is not None:
                return found
    return None


_TIMER_KINDS: tuple[tuple[str, TimerKind], ...] = (
    ("timeDuration", "duration"),
    ("timeDate", "date"),
    ("timeCycle", "cycle"),
)


def _timer(element: etree._Element, report: Report) -> TimerEventDefinition:
    texts: dict[TimerKind, str] = {}
    for child_tag, kind in _TIMER_KINDS:
        child = element.find(bpmn(child_tag))
        if child is not None:
            texts[kind] = text_of(child)
    if len(texts) != 1:
        found = ", ".join(tag for tag, kind in _TIMER_KINDS if kind in texts) or "none"
        report(
            "must be exactly one type of timer: timeDuration, timeDate or timeCycle "
            f"(found {found}); keep one of them"
        )
    for kind, text in texts.items():
        if not text or (text.startswith("=") and not text[1:].strip()):
            report(
                f"the timer's time{kind.capitalize()} is empty; write an ISO 8601 value or an expression after '='"
            )
        elif not text.startswith("="):
            try:
                parse_timer(kind, text)
            except TimerParseError as error:
                report(f"{error}; fix the time{kind.capitalize()} {_quoted(text)}")
            except (ValueError, OverflowError):  # out-of-range fields the timer parser does not word
                report(f"the time{kind.capitalize()} {_quoted(text)} is not a valid timer value")
    return TimerEventDefinition(
        time_duration=texts.get("duration"), time_date=texts.get("date"), time_cycle=texts.get("cycle")
    )
