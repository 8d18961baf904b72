"""Small DMN documents built in code for the DMN tests: a decision table or literal expression per
call, wrapped in ``definitions`` of any DMN namespace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from zeebe_trio.engine.dmn import DecisionRequirements, parse_dmn

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


@dataclass
class Table:
    """A decision table: ``inputs`` are (label, input expression), ``outputs`` (name, outputValues
    text or None, defaultOutputEntry or None), ``rules`` (input entries, output entries)."""

    id: str
    inputs: Sequence[tuple[str, str]]
    outputs: Sequence[tuple[str, str | None, str | None]]
    rules: Sequence[tuple[Sequence[str], Sequence[str]]]
    hit_policy: str | None = None
    aggregation: str | None = None
    name: str = ""
    requires: Sequence[str] = ()
    variable: str | None = None

    def xml(self) -> str:
        attributes = ""
        if self.hit_policy:
            attributes += f" hitPolicy={quoteattr(self.hit_policy)}"
        if self.aggregation:
            attributes += f" aggregation={quoteattr(self.aggregation)}"
        parts = [f'<decision id="{self.id}" name={quoteattr(self.name or self.id)}>', _requirements(self.requires)]
        if self.variable:
            parts.append(f'<variable name="{self.variable}"/>')
        parts.append(f'<decisionTable id="{self.id}_table"{attributes}>')
        for n, (label, expression) in enumerate(self.inputs, 1):
            parts.append(f'<input id="{self.id}_in{n}" label={quoteattr(label)}><inputExpression id="{self.id}_ie{n}">'
                         f"<text>{escape(expression)}</text></inputExpression></input>")
        for n, (name, values, default) in enumerate(self.outputs, 1):
            inner = f"<outputValues><text>{escape(values)}</text></outputValues>" if values is not None else ""
            if default is not None:
                inner += f"<defaultOutputEntry><text>{escape(default)}</text></defaultOutputEntry>"
            parts.append(f'<output id="{self.id}_out{n}" name="{name}" label="{name}">{inner}</output>')
        for r, (entries, results) in enumerate(self.rules, 1):
            parts.append(f'<rule id="{self.id}_r{r}">')
            parts += [f"<inputEntry><text>{escape(e)}</text></inputEntry>" for e in entries]
            parts += [f"<outputEntry><text>{escape(e)}</text></outputEntry>" for e in results]
            parts.append("</rule>")
        parts.append("</decisionTable></decision>")
        return "".join(parts)


@dataclass
class Literal:
    id: str
    expression: str
    variable: str | None = None
    type_ref: str | None = None
    requires: Sequence[str] = field(default_factory=tuple)
    name: str = ""

    def xml(self) -> str:
        variable = ""
        if self.variable is not None:
            type_ref = f" typeRef={quoteattr(self.type_ref)}" if self.type_ref else ""
            variable = f'<variable name="{self.variable}"{type_ref}/>'
        return (f'<decision id="{self.id}" name={quoteattr(self.name or self.id)}>{_requirements(self.requires)}{variable}'
                f'<literalExpression id="{self.id}_expr"><text>{escape(self.expression)}</text></literalExpression>'
                "</decision>")


def _requirements(required: Sequence[str]) -> str:
    return "".join(f'<informationRequirement><requiredDecision href="#{r}"/></informationRequirement>' for r in required)


def definitions(*decisions: Table | Literal | str, namespace: str = DMN13, drg_id: str = "drg",
                name: str = "Decisions") -> str:
    body = "".join(d if isinstance(d, str) else d.xml() for d in decisions)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{namespace}" id="{drg_id}" '
            f'name="{name}" namespace="http://camunda.org/schema/1.0/dmn">{body}</definitions>')


def drg(*decisions: Table | Literal | str, namespace: str = DMN13) -> DecisionRequirements:
    return parse_dmn("test.dmn", definitions(*decisions, namespace=namespace))
