"""BPMN 2.0 XML -> immutable, executable process models, validated the way Zeebe validates deployments.

``parse_bpmn(resource_name, data)`` returns every executable process of a resource or raises
``BpmnValidationError`` listing every problem. Expressions stay raw strings; the engine compiles them.
``parse_timer``/``timer_from_value`` turn a timer event's definition (or its expression's value) into
a timer with due times in epoch milliseconds.
"""

from ._errors import (
    MAX_LISTED_PROBLEMS,
    BpmnValidationError,
    Problem,
    element_label,
    rejection_lines,
    resource_label,
)
from ._model import (
    DEFAULT_JOB_RETRIES,
    EXECUTABLE_ELEMENT_TYPES,
    JOB_WORKER_ELEMENT_TYPES,
    ElementType,
    ExecutableProcess,
    FlowElement,
    FlowNode,
    Mapping,
    SequenceFlow,
)
from ._parser import MAX_ID_LENGTH, parse_bpmn
from ._timers import (
    EARLIEST_DUE_TIME,
    MAX_TIMER_TEXT_LENGTH,
    CronTimer,
    DateTimer,
    DurationTimer,
    IsoInterval,
    RepeatingIntervalTimer,
    TimerDefinition,
    TimerKind,
    TimerParseError,
    parse_iso_interval,
    parse_timer,
    timer_from_value,
)
from ._xml import BPMN_NS, ZEEBE_NS

__all__ = [
    "BPMN_NS",
    "DEFAULT_JOB_RETRIES",
    "EARLIEST_DUE_TIME",
    "EXECUTABLE_ELEMENT_TYPES",
    "JOB_WORKER_ELEMENT_TYPES",
    "MAX_ID_LENGTH",
    "MAX_LISTED_PROBLEMS",
    "MAX_TIMER_TEXT_LENGTH",
    "ZEEBE_NS",
    "BpmnValidationError",
    "CronTimer",
    "DateTimer",
    "DurationTimer",
    "ElementType",
    "ExecutableProcess",
    "FlowElement",
    "FlowNode",
    "IsoInterval",
    "Mapping",
    "Problem",
    "RepeatingIntervalTimer",
    "SequenceFlow",
    "TimerDefinition",
    "TimerKind",
    "TimerParseError",
    "element_label",
    "parse_bpmn",
    "parse_iso_interval",
    "parse_timer",
    "rejection_lines",
    "resource_label",
    "timer_from_value",
]
