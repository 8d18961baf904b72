"""The syntax tree the parser builds and the compiler turns into closures.

Every node keeps ``pos``, its offset in the source, for messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Node:
    pos: int


@dataclass(slots=True)
class Literal(Node):
    value: Any  # None, bool, int, Decimal or str


@dataclass(slots=True)
class TemporalLiteral(Node):
    text: str


@dataclass(slots=True)
class Name(Node):
    name: str


@dataclass(slots=True)
class ListLiteral(Node):
    items: list[Node]


@dataclass(slots=True)
class ContextLiteral(Node):
    entries: list[tuple[str, Node]]


@dataclass(slots=True)
class RangeLiteral(Node):
    start: Node | None
    end: Node | None
    start_included: bool
    end_included: bool


@dataclass(slots=True)
class Negation(Node):
    operand: Node


@dataclass(slots=True)
class Binary(Node):
    op: str  # + - * / ** = != < <= > >=
    left: Node
    right: Node


@dataclass(slots=True)
class And(Node):
    left: Node
    right: Node


@dataclass(slots=True)
class Or(Node):
    left: Node
    right: Node


@dataclass(slots=True)
class Between(Node):
    value: Node
    low: Node
    high: Node


@dataclass(slots=True)
class InstanceOf(Node):
    value: Node
    type_name: str


@dataclass(slots=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(slots=True)
class Iteration:
    name: str
    source: Node
    range_end: Node | None  # `x in 1..10` (no brackets)


@dataclass(slots=True)
class For(Node):
    iterations: list[Iteration]
    body: Node


@dataclass(slots=True)
class Quantified(Node):
    every: bool
    iterations: list[Iteration]
    condition: Node


@dataclass(slots=True)
class FunctionDefinition(Node):
    params: list[str]
    body: Node


@dataclass(slots=True)
class Call(Node):
    callee: Node
    args: list[Node]
    named: dict[str, Node] | None = None


@dataclass(slots=True)
class Path(Node):
    base: Node
    member: str


@dataclass(slots=True)
class Filter(Node):
    base: Node
    predicate: Node


# --- unary tests -------------------------------------------------------------------------------


@dataclass(slots=True)
class TestCompare(Node):
    op: str  # < <= > >= = !=
    operand: Node


@dataclass(slots=True)
class TestExpression(Node):
    expression: Node


@dataclass(slots=True)
class TestAny(Node):
    pass


@dataclass(slots=True)
class TestNot(Node):
    tests: list[Node]


@dataclass(slots=True)
class In(Node):
    value: Node
    tests: list[Node] = field(default_factory=list)


def children(node: Node) -> list[Node]:
    """The direct sub-nodes of node (for analyses such as free names)."""
    out: list[Node] = []
    for name in node.__slots__:  # type: ignore[attr-defined]
        if name == "pos":
            continue
        value = getattr(node, name)
        if isinstance(value, Node):
            out.append(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Node):
                    out.append(item)
                elif isinstance(item, Iteration):
                    out.append(item.source)
                    if item.range_end is not None:
                        out.append(item.range_end)
                elif isinstance(item, tuple):
                    out.append(item[1])
        elif isinstance(value, dict):
            out.extend(value.values())
    return out


def contains(node: Node, kind: type) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, kind):
            return True
        stack.extend(children(current))
    return False
