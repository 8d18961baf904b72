"""BPMN 2.0 XML -> immutable, executable process models, validated the way Zeebe validates deployments.

``parse_bpmn(resource_name, data)`` returns every executable process of a resource or raises
``BpmnValidationError`` listing every problem. Expressions stay raw strings; the engine compiles them.
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
from ._xml import BPMN_NS, ZEEBE_NS

__all__ = [
    "BPMN_NS",
    "DEFAULT_JOB_RETRIES",
    "EXECUTABLE_ELEMENT_TYPES",
    "JOB_WORKER_ELEMENT_TYPES",
    "MAX_ID_LENGTH",
    "MAX_LISTED_PROBLEMS",
    "ZEEBE_NS",
    "BpmnValidationError",
    "ElementType",
    "ExecutableProcess",
    "FlowElement",
    "FlowNode",
    "Mapping",
    "Problem",
    "SequenceFlow",
    "element_label",
    "parse_bpmn",
    "rejection_lines",
    "resource_label",
]
