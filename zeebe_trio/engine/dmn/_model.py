"""The parsed decision requirements graph: decisions (decision tables, literal expressions,
invocations) and the business knowledge models they invoke.

Every expression is compiled by the parser (``_parser``), so a model that exists can be evaluated:
evaluation never meets a syntax error. Values that reach a record (the ids, names, type refs) are kept
as the file spells them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..feel import Expression, UnaryTests

__all__ = [
    "Aggregation",
    "BusinessKnowledgeModel",
    "Decision",
    "DecisionInput",
    "DecisionOutput",
    "DecisionTable",
    "DecisionType",
    "HitPolicy",
    "Invocation",
    "LiteralExpression",
    "Rule",
]


class HitPolicy(StrEnum):
    """The hit policies of DMN 1.3 as the XML spells them (``hitPolicy``, UNIQUE when absent)."""

    UNIQUE = "UNIQUE"
    FIRST = "FIRST"
    PRIORITY = "PRIORITY"
    ANY = "ANY"
    COLLECT = "COLLECT"
    RULE_ORDER = "RULE ORDER"
    OUTPUT_ORDER = "OUTPUT ORDER"


class Aggregation(StrEnum):
    """The ``aggregation`` of a COLLECT table."""

    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    COUNT = "COUNT"


class DecisionType(StrEnum):
    """``decisionType`` of an evaluated decision, as Zeebe names the decision logic."""

    DECISION_TABLE = "DECISION_TABLE"
    LITERAL_EXPRESSION = "LITERAL_EXPRESSION"
    INVOCATION = "INVOCATION"


@dataclass(frozen=True, slots=True)
class DecisionInput:
    """A column of input: its expression, evaluated once per evaluation; ``label`` is its name."""

    id: str
    label: str
    expression: Expression
    type_ref: str | None = None
    input_values: str | None = None  # the allowed values (unary tests text), kept, not enforced


@dataclass(frozen=True, slots=True)
class DecisionOutput:
    """A column of output; ``output_values`` is the ``outputValues`` text split into values (what
    PRIORITY and OUTPUT ORDER rank by); ``default`` is the ``defaultOutputEntry``."""

    id: str
    name: str
    label: str
    type_ref: str | None = None
    output_values: tuple[str, ...] = ()
    default: Expression | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A row: one unary test per input (None for an empty cell, which matches anything) and one
    expression per output (None for an empty cell, which gives null). ``index`` is 1-based."""

    id: str
    index: int
    input_entries: tuple[UnaryTests | None, ...]
    output_entries: tuple[Expression | None, ...]
    annotations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionTable:
    id: str
    hit_policy: HitPolicy
    aggregation: Aggregation | None
    inputs: tuple[DecisionInput, ...]
    outputs: tuple[DecisionOutput, ...]
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class LiteralExpression:
    id: str
    expression: Expression


@dataclass(frozen=True, slots=True)
class Invocation:
    """Boxed invocation: ``function`` (usually the name of a business knowledge model) called with
    the ``bindings``, each a parameter name and the expression giving its value (None: null)."""

    id: str
    function: Expression
    bindings: tuple[tuple[str, Expression | None], ...]


@dataclass(frozen=True, slots=True)
class BusinessKnowledgeModel:
    """A function a decision may invoke: ``parameters`` bound to the arguments, ``body`` evaluated
    with them and with the functions of the models it requires (``required_knowledge``, ids), and
    nothing else. In a decision's scope it is named ``result_name`` (the variable name, else its
    name, else its id). Without a body it gives null."""

    id: str
    name: str
    result_name: str
    parameters: tuple[str, ...]
    body: Expression | None
    required_knowledge: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision. ``result_name`` is the name its result has in the scope of the decisions that
    require it: the ``variable`` name, else the decision id (as dmn-scala names it); ``result_type``
    is the variable's ``typeRef``, checked on the result. ``required_decisions`` are ids, in the order
    of the ``informationRequirement`` elements; ``required_knowledge`` the ids of the business
    knowledge models of its ``knowledgeRequirement`` elements."""

    id: str
    name: str
    logic: DecisionTable | LiteralExpression | Invocation
    result_name: str
    result_type: str | None = None
    version_tag: str | None = None
    required_decisions: tuple[str, ...] = ()
    required_knowledge: tuple[str, ...] = ()

    @property
    def decision_type(self) -> DecisionType:
        if isinstance(self.logic, DecisionTable):
            return DecisionType.DECISION_TABLE
        if isinstance(self.logic, Invocation):
            return DecisionType.INVOCATION
        return DecisionType.LITERAL_EXPRESSION
