"""DMN resources and business rule tasks that call them, for tests of decision deployment, evaluation
and business rule tasks."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

__all__ = ["business_rule_task", "decision_table", "dmn", "literal_decision"]

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def decision_table(decision_id: str, input_expression: str, rules: list[tuple[str, str]], *, name: str = "",
                   output: str = "result", hit_policy: str = "UNIQUE", requires: tuple[str, ...] = (),
                   version_tag: str | None = None) -> str:
    """A decision table with one input and one output; ``rules`` are (input entry, output entry)."""
    parts = [f"<decision id={quoteattr(decision_id)} name={quoteattr(name or decision_id)}>",
             _version_tag(version_tag), _requirements(requires),
             f'<decisionTable id="{decision_id}_table" hitPolicy="{hit_policy}">',
             f'<input id="{decision_id}_input" label="Input"><inputExpression id="{decision_id}_ie">'
             f"<text>{escape(input_expression)}</text></inputExpression></input>",
             f'<output id="{decision_id}_output" name="{output}" label="Output"/>']
    for index, (entry, result) in enumerate(rules, 1):
        parts.append(f'<rule id="{decision_id}_rule{index}"><inputEntry><text>{escape(entry)}</text></inputEntry>'
                     f"<outputEntry><text>{escape(result)}</text></outputEntry></rule>")
    parts.append("</decisionTable></decision>")
    return "".join(parts)


def literal_decision(decision_id: str, expression: str, *, name: str = "", requires: tuple[str, ...] = (),
                     version_tag: str | None = None) -> str:
    return (f"<decision id={quoteattr(decision_id)} name={quoteattr(name or decision_id)}>"
            f"{_version_tag(version_tag)}{_requirements(requires)}"
            f'<literalExpression id="{decision_id}_expr"><text>{escape(expression)}</text></literalExpression>'
            "</decision>")


def dmn(*decisions: str, drg_id: str = "drg", name: str = "Decisions") -> bytes:
    """A DMN 1.3 resource with the given decisions (the ``definitions`` id is the DRG id)."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{DMN13}"'
            ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
            f' id={quoteattr(drg_id)} name={quoteattr(name)} namespace="http://camunda.org/schema/1.0/dmn">'
            f"{''.join(decisions)}</definitions>").encode()


def business_rule_task(task_id: str, decision_id: str, result_variable: str = "result", *,
                       binding_type: str | None = None, version_tag: str | None = None, mappings: str = "") -> str:
    """A business rule task whose zeebe:calledDecision evaluates ``decision_id`` (``=...`` for FEEL)."""
    attributes = f"decisionId={quoteattr(decision_id)} resultVariable={quoteattr(result_variable)}"
    if binding_type is not None:
        attributes += f" bindingType={quoteattr(binding_type)}"
    if version_tag is not None:
        attributes += f" versionTag={quoteattr(version_tag)}"
    io = f"<zeebe:ioMapping>{mappings}</zeebe:ioMapping>" if mappings else ""
    return (f'<bpmn:businessRuleTask id="{task_id}"><bpmn:extensionElements>'
            f"<zeebe:calledDecision {attributes}/>{io}</bpmn:extensionElements></bpmn:businessRuleTask>")


def _version_tag(tag: str | None) -> str:
    return "" if tag is None else f"<extensionElements><zeebe:versionTag value={quoteattr(tag)}/></extensionElements>"


def _requirements(required: tuple[str, ...]) -> str:
    return "".join(f'<informationRequirement><requiredDecision href="#{r}"/></informationRequirement>'
                   for r in required)
