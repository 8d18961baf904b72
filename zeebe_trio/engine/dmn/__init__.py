"""DMN, the decision language of Zeebe 8: decision tables, literal expressions and invocations of
business knowledge models in decision requirements graphs, evaluated the way Zeebe's DMN engine (dmn-scala) evaluates them.

Parse once, evaluate many times::

    drg = parse_dmn("discount.dmn", xml_bytes)        # raises DmnParseError naming every problem
    result = drg.evaluate("discount", {"total": 120})   # a DecisionResult, never raises
    result.decision_output, result.evaluated_decisions, result.failure_message

Pure: no state, no clock (``now`` and the FEEL time budget's ``monotonic`` are passed in), no I/O.
"""

from ._drg import DecisionRequirements
from ._errors import DmnParseError
from ._evaluator import (
    MAX_DECISION_SECONDS,
    MAX_EVALUATED_DECISIONS,
    MAX_KNOWLEDGE_INVOCATIONS,
    evaluate_decision,
)
from ._model import (
    Aggregation,
    BusinessKnowledgeModel,
    Decision,
    DecisionInput,
    DecisionOutput,
    DecisionTable,
    DecisionType,
    HitPolicy,
    Invocation,
    LiteralExpression,
    Rule,
)
from ._parser import DMN_NAMESPACES, MAX_REQUIREMENT_DEPTH, parse_dmn
from ._result import DecisionResult, EvaluatedDecision, EvaluatedInput, EvaluatedOutput, MatchedRule

__all__ = [
    "Aggregation",
    "BusinessKnowledgeModel",
    "DMN_NAMESPACES",
    "Decision",
    "DecisionInput",
    "DecisionOutput",
    "DecisionRequirements",
    "DecisionResult",
    "DecisionTable",
    "DecisionType",
    "DmnParseError",
    "EvaluatedDecision",
    "EvaluatedInput",
    "EvaluatedOutput",
    "HitPolicy",
    "Invocation",
    "LiteralExpression",
    "MAX_DECISION_SECONDS",
    "MAX_EVALUATED_DECISIONS",
    "MAX_KNOWLEDGE_INVOCATIONS",
    "MAX_REQUIREMENT_DEPTH",
    "MatchedRule",
    "Rule",
    "evaluate_decision",
    "parse_dmn",
]
