"""DMN XML (1.1 to 1.5, as Camunda Modeler writes them) into a ``DecisionRequirements`` model.

Deployments come from any client, so the XML parser never loads a DTD, never resolves an entity,
never touches the network and keeps libxml2's size limits; a document with a DOCTYPE is refused
(the same rules as the BPMN parser). Every problem is collected, not just the first, and each names
the decision and the element; FEEL is compiled here, so a syntax error is a deployment problem and
never an evaluation failure. What is refused beyond dmn-scala's own checks, and why: decision logic
other than decision tables, literal expressions and invocations, business knowledge models whose
logic is not a literal expression, and imported decisions (not supported yet); a knowledge
requirement that names no model of the resource, and a cycle among business knowledge models (the
calls would recurse without end); rules whose number of cells differs from the columns (dmn-scala would silently
ignore the extra or missing cells); chains of required decisions deeper than
``MAX_REQUIREMENT_DEPTH`` (evaluation recurses along them).
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from .._untrusted_xml import UntrustedXmlError, load_root
from ..feel import Expression, FeelSyntaxError, UnaryTests, compile_expression, compile_unary_tests
from ._drg import DecisionRequirements
from ._errors import DmnParseError, excerpt
from ._model import (
    Aggregation,
    BusinessKnowledgeModel,
    Decision,
    DecisionInput,
    DecisionOutput,
    DecisionTable,
    HitPolicy,
    Invocation,
    LiteralExpression,
    Rule,
)

__all__ = ["DMN_NAMESPACES", "MAX_REQUIREMENT_DEPTH", "ZEEBE_NS", "parse_dmn"]

DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",  # DMN 1.1
    "http://www.omg.org/spec/DMN/20151101/dmn11.xsd",  # DMN 1.1, as Camunda's older examples write it
    "http://www.omg.org/spec/DMN/20180521/MODEL/",  # DMN 1.2
    "https://www.omg.org/spec/DMN/20191111/MODEL/",  # DMN 1.3
    "http://www.omg.org/spec/DMN/20191111/MODEL/",  # DMN 1.3, without https
    "https://www.omg.org/spec/DMN/20211108/MODEL/",  # DMN 1.4
    "https://www.omg.org/spec/DMN/20230324/MODEL/",  # DMN 1.5
)
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
FEEL_LANGUAGES = frozenset(s.lower() for s in (
    "feel",
    "http://www.omg.org/spec/FEEL/20140401",
    "http://www.omg.org/spec/DMN/20180521/FEEL/",
    "https://www.omg.org/spec/DMN/20191111/FEEL/",
    "http://www.omg.org/spec/DMN/20191111/FEEL/",
    "https://www.omg.org/spec/DMN/20211108/FEEL/",
    "https://www.omg.org/spec/DMN/20230324/FEEL/",
))
#: Required decisions are evaluated recursively; a longer chain is refused at deployment.
MAX_REQUIREMENT_DEPTH = 100

_HIT_POLICIES = {policy.value: policy for policy in HitPolicy}
_AGGREGATIONS = {aggregation.value: aggregation for aggregation in Aggregation}
_DECISION_LOGIC = ("decisionTable", "literalExpression", "context", "invocation", "list", "relation",
                   "functionDefinition")


def _load(resource_name: str, data: bytes | str) -> etree._Element:
    try:
        root = load_root(data, "DMN", "DMN XML")
    except UntrustedXmlError as error:
        raise DmnParseError(resource_name, [str(error)]) from None
    qname = etree.QName(root)
    if qname.localname != "definitions" or qname.namespace not in DMN_NAMESPACES:
        found = f"'{excerpt(qname.localname)}'" + (
            f" in namespace '{excerpt(qname.namespace)}'" if qname.namespace else " without namespace")
        raise DmnParseError(resource_name, [
            "the root element must be 'definitions' in a DMN namespace (DMN 1.1 to 1.5, e.g. "
            f"'{DMN_NAMESPACES[3]}'), found {found}"])
    return root


class _Parser:
    def __init__(self, resource_name: str, root: etree._Element) -> None:
        self.resource_name = resource_name
        self.root = root
        self.ns = etree.QName(root).namespace or ""
        self.problems: list[str] = []
        self.where = ""

    # --- helpers ---

    def tag(self, local_name: str) -> str:
        return f"{{{self.ns}}}{local_name}"

    def children(self, element: etree._Element, local_name: str) -> Iterator[etree._Element]:
        return element.iterchildren(self.tag(local_name))

    def child(self, element: etree._Element, local_name: str) -> etree._Element | None:
        return element.find(self.tag(local_name))

    def text_of(self, element: etree._Element | None) -> str | None:
        """The ``<text>`` of an expression element (None when it has none)."""
        if element is None:
            return None
        text = self.child(element, "text")
        if text is None:
            return None
        return text.text or ""

    def problem(self, message: str) -> None:
        self.problems.append(f"{self.where}: {message}" if self.where else message)

    def language_ok(self, element: etree._Element, what: str) -> bool:
        language = (element.get("expressionLanguage") or "feel").lower()
        if language in FEEL_LANGUAGES:
            return True
        self.problem(f"{what}: expression language '{excerpt(language)}' is not supported; use FEEL")
        return False

    def expression(self, element: etree._Element, what: str, *, empty_is_null: bool) -> Expression | None:
        """The FEEL expression of ``element`` (None for an empty one when ``empty_is_null``)."""
        if not self.language_ok(element, what):
            return None
        text = self.text_of(element)
        if text is None or not text.strip():
            if not empty_is_null:
                self.problem(f"{what} is empty; give it a FEEL expression")
            return None
        try:
            return compile_expression(text)
        except FeelSyntaxError as e:
            self.problem(f"{what}: FEEL expression: {e}")
            return None

    def unary_tests(self, element: etree._Element, what: str) -> UnaryTests | None:
        if not self.language_ok(element, what):
            return None
        text = self.text_of(element)
        if text is None or not text.strip():
            return None  # an empty cell matches any input
        try:
            return compile_unary_tests(text)
        except FeelSyntaxError as e:
            self.problem(f"{what}: FEEL unary-tests: {e}")
            return None

    # --- the graph ---

    def parse(self) -> DecisionRequirements:
        root = self.root
        definitions_id = root.get("id") or ""
        if not definitions_id:
            self.problem("the 'definitions' element has no id; give it one (it is the decision requirements id)")
        models: dict[str, BusinessKnowledgeModel] = {}
        model_ids: set[str] = set()
        for element in self.children(root, "businessKnowledgeModel"):
            model_id = element.get("id") or ""
            if not model_id or model_id in model_ids:
                self.where = ""
                self.problem(f"business knowledge model '{excerpt(element.get('name') or model_id)}' (line "
                             f"{element.sourceline}) has " + ("no id; give it one" if not model_id else
                                                               "the id of another; ids must be unique"))
                continue
            model_ids.add(model_id)
            model = self.knowledge_model(element)
            if model is not None:
                models[model_id] = model
        decisions: dict[str, Decision] = {}
        requirement_elements: dict[str, etree._Element] = {}
        for element in self.children(root, "decision"):
            decision_id = element.get("id") or ""
            if not decision_id:
                self.where = f"decision '{excerpt(element.get('name') or '')}' (line {element.sourceline})"
                self.problem("it has no id; give every decision an id")
                continue
            if decision_id in requirement_elements:
                self.where = ""
                self.problem(f"two decisions have the id '{excerpt(decision_id)}'; decision ids must be unique")
                continue
            requirement_elements[decision_id] = element
            decision = self.decision(element)
            if decision is not None:
                decisions[decision_id] = decision
        self.where = ""
        if not requirement_elements:
            self.problem("the resource has no decision; add a decision table or literal expression decision")
        self.check_requirements(decisions, set(requirement_elements))
        self.check_knowledge(decisions, models, model_ids)
        if self.problems:
            raise DmnParseError(self.resource_name, self.problems)
        return DecisionRequirements(definitions_id, root.get("name") or "", root.get("namespace") or "",
                                    self.resource_name, decisions, models)

    def check_knowledge(self, decisions: dict[str, Decision], models: dict[str, BusinessKnowledgeModel],
                        known: set[str]) -> None:
        """Every knowledge requirement names a model of the resource, and no model requires itself,
        directly or through others."""
        requirers: list[tuple[str, tuple[str, ...]]] = [
            (f"decision '{excerpt(d.id)}'", d.required_knowledge) for d in decisions.values()]
        requirers += [(f"business knowledge model '{excerpt(m.id)}'", m.required_knowledge) for m in models.values()]
        for who, required in requirers:
            for model_id in required:
                if model_id not in known:
                    self.problem(f"{who} requires the business knowledge model '{excerpt(model_id)}', which is not "
                                 "in this resource; add it or remove the requirement")
        state: dict[str, int] = {}  # 1: on the current path, 2: done

        def visit(model_id: str, path: list[str]) -> bool:
            if state.get(model_id) == 2 or model_id not in models:
                return True
            if state.get(model_id) == 1:
                cycle = path[path.index(model_id):] + [model_id]
                self.problem("business knowledge models require each other in a cycle ("
                             + " -> ".join(f"'{excerpt(m)}'" for m in cycle) + "); their calls would never end")
                return False
            state[model_id] = 1
            for required in models[model_id].required_knowledge:
                if not visit(required, path + [model_id]):
                    return False
            state[model_id] = 2
            return True

        for model_id in models:
            if not visit(model_id, []):
                return

    def decision(self, element: etree._Element) -> Decision | None:
        decision_id = element.get("id") or ""
        name = element.get("name") or ""
        self.where = f"decision '{excerpt(decision_id)}'" + (f" ({excerpt(name)})" if name else "")
        before = len(self.problems)
        required: list[str] = []
        for requirement in self.children(element, "informationRequirement"):
            reference = self.child(requirement, "requiredDecision")
            if reference is None:
                continue  # requiredInput: input data is read from the variables
            href = reference.get("href") or ""
            namespace, _, target = href.rpartition("#")
            if not target:
                self.problem(f"informationRequirement '{excerpt(requirement.get('id') or '')}' has a requiredDecision "
                             f"without href; reference the decision as href=\"#decisionId\"")
            elif namespace:
                self.problem(f"the required decision '{excerpt(href)}' is imported from another model; "
                             "imported decisions are not supported yet")
            else:
                required.append(target)
        knowledge = self.knowledge_requirements(element)
        logic_elements = [child for child in element if isinstance(child.tag, str)
                          and etree.QName(child).localname in _DECISION_LOGIC
                          and etree.QName(child).namespace == self.ns]
        logic: DecisionTable | LiteralExpression | Invocation | None = None
        if not logic_elements:
            self.problem("it has no decision logic; add a decisionTable or a literalExpression")
        else:
            kind = etree.QName(logic_elements[0]).localname
            if kind == "decisionTable":
                logic = self.decision_table(logic_elements[0])
            elif kind == "literalExpression":
                expression = self.expression(logic_elements[0], "literal expression", empty_is_null=False)
                if expression is not None:
                    logic = LiteralExpression(logic_elements[0].get("id") or "", expression)
            elif kind == "invocation":
                logic = self.invocation(logic_elements[0])
            else:
                self.problem(f"{kind} decision logic is not supported yet (supported: decisionTable, "
                             "literalExpression, invocation)")
        variable = self.child(element, "variable")
        result_name = (variable.get("name") if variable is not None else None) or decision_id
        result_type = variable.get("typeRef") if variable is not None else None
        version_tag = None
        extensions = self.child(element, "extensionElements")
        if extensions is not None:
            tag = extensions.find(f"{{{ZEEBE_NS}}}versionTag")
            if tag is not None:
                version_tag = tag.get("value") or None
        if logic is None or len(self.problems) > before:
            return None
        return Decision(decision_id, name, logic, result_name, result_type or None, version_tag, tuple(required),
                        knowledge)

    def knowledge_requirements(self, element: etree._Element) -> tuple[str, ...]:
        """The ids of the business knowledge models ``element`` requires (``requiredKnowledge href``)."""
        required = []
        for requirement in self.children(element, "knowledgeRequirement"):
            reference = self.child(requirement, "requiredKnowledge")
            href = reference.get("href") or "" if reference is not None else ""
            namespace, _, target = href.rpartition("#")
            if not target:
                self.problem(f"knowledgeRequirement '{excerpt(requirement.get('id') or '')}' has no requiredKnowledge "
                             "href; reference the business knowledge model as href=\"#modelId\"")
            elif namespace:
                self.problem(f"the required knowledge '{excerpt(href)}' is imported from another model; imported "
                             "business knowledge models are not supported yet")
            else:
                required.append(target)
        return tuple(required)

    def invocation(self, element: etree._Element) -> Invocation | None:
        """A boxed invocation: the function as a literal expression, then one binding per parameter."""
        before = len(self.problems)
        function_element = self.child(element, "literalExpression")
        function = None
        if function_element is None:
            self.problem("the invocation names no function; give it a literalExpression with the business "
                         "knowledge model's name")
        else:
            function = self.expression(function_element, "invocation function", empty_is_null=False)
        bindings: list[tuple[str, Expression | None]] = []
        for position, binding in enumerate(self.children(element, "binding"), 1):
            parameter = self.child(binding, "parameter")
            name = parameter.get("name") if parameter is not None else None
            if not name:
                self.problem(f"binding {position} of the invocation has no parameter name")
                continue
            value_element = self.child(binding, "literalExpression")
            others = [etree.QName(c).localname for c in binding if isinstance(c.tag, str)
                      and etree.QName(c).localname in _DECISION_LOGIC and etree.QName(c).localname != "literalExpression"]
            if others:
                self.problem(f"binding '{excerpt(name)}' of the invocation: {others[0]} bindings are not supported "
                             "yet (use a literalExpression)")
                continue
            value = (self.expression(value_element, f"binding '{excerpt(name)}'", empty_is_null=True)
                     if value_element is not None else None)
            bindings.append((name, value))
        if function is None or len(self.problems) > before:
            return None
        return Invocation(element.get("id") or "", function, tuple(bindings))

    def knowledge_model(self, element: etree._Element) -> BusinessKnowledgeModel | None:
        model_id = element.get("id") or ""
        name = element.get("name") or ""
        self.where = f"business knowledge model '{excerpt(model_id)}'" + (f" ({excerpt(name)})" if name else "")
        before = len(self.problems)
        required = self.knowledge_requirements(element)
        variable = self.child(element, "variable")
        result_name = (variable.get("name") if variable is not None else None) or name or model_id
        logic = self.child(element, "encapsulatedLogic")
        parameters: list[str] = []
        body = None
        if logic is not None:
            for parameter in self.children(logic, "formalParameter"):
                parameter_name = parameter.get("name") or ""
                if not parameter_name:
                    self.problem("a formalParameter has no name; name every parameter")
                elif parameter_name in parameters:
                    self.problem(f"the parameter '{excerpt(parameter_name)}' is declared twice")
                else:
                    parameters.append(parameter_name)
            kinds = [etree.QName(c).localname for c in logic if isinstance(c.tag, str)
                     and etree.QName(c).localname in _DECISION_LOGIC]
            if kinds and kinds[0] != "literalExpression":
                self.problem(f"{kinds[0]} as the logic of a business knowledge model is not supported yet "
                             "(supported: literalExpression)")
            elif kinds:
                body_element = self.child(logic, "literalExpression")
                assert body_element is not None
                body = self.expression(body_element, "its literal expression", empty_is_null=True)
        if len(self.problems) > before:
            return None
        return BusinessKnowledgeModel(model_id, name, result_name, tuple(parameters), body, required)

    def decision_table(self, element: etree._Element) -> DecisionTable | None:
        before = len(self.problems)
        raw_policy = element.get("hitPolicy") or "UNIQUE"
        hit_policy = _HIT_POLICIES.get(raw_policy)
        if hit_policy is None:
            self.problem(f"unknown hit policy '{excerpt(raw_policy)}'; use one of "
                         + ", ".join(p.value for p in HitPolicy))
        raw_aggregation = element.get("aggregation")
        aggregation = None
        if raw_aggregation is not None:
            aggregation = _AGGREGATIONS.get(raw_aggregation)
            if aggregation is None:
                self.problem(f"unknown aggregation '{excerpt(raw_aggregation)}'; use one of SUM, MIN, MAX, COUNT")
            elif hit_policy is not None and hit_policy is not HitPolicy.COLLECT:
                self.problem(f"the aggregation {raw_aggregation} needs the hit policy COLLECT, not {hit_policy.value}")
        inputs = []
        for position, column in enumerate(self.children(element, "input"), 1):
            label = column.get("label") or ""
            what = f"input {position}" + (f" ('{excerpt(label)}')" if label else "")
            source = self.child(column, "inputExpression")
            if source is None:
                self.problem(f"{what} has no inputExpression; give it one")
                continue
            expression = self.expression(source, f"{what} inputExpression", empty_is_null=False)
            allowed = self.text_of(self.child(column, "inputValues"))
            if expression is not None:
                inputs.append(DecisionInput(column.get("id") or "", label, expression,
                                            source.get("typeRef"), allowed))
        input_count = sum(1 for _ in self.children(element, "input"))
        outputs = []
        output_elements = list(self.children(element, "output"))
        if not output_elements:
            self.problem("the decision table has no output; add an output column")
        for position, column in enumerate(output_elements, 1):
            name = column.get("name") or ""
            label = column.get("label") or ""
            if len(output_elements) > 1 and not name:
                self.problem(f"no output name defined for output {position} ('{excerpt(label)}'); a table with "
                             "several outputs needs a name for each (its key in the result)")
            values_text = self.text_of(self.child(column, "outputValues"))
            # ranked as dmn-scala ranks them: split at commas, quotes and spaces removed
            values = tuple(v.strip().replace('"', "").replace("'", "")
                           for v in values_text.split(",")) if values_text else ()
            default_element = self.child(column, "defaultOutputEntry")
            default = (self.expression(default_element, f"output {position} defaultOutputEntry", empty_is_null=True)
                       if default_element is not None else None)
            outputs.append(DecisionOutput(column.get("id") or "", name, label, column.get("typeRef"), values, default))
        if len(output_elements) > 1 and aggregation is not None:
            self.problem("hit policy 'COLLECT' with aggregator is not defined for compound output")
        rules = []
        table_where = self.where
        for index, row in enumerate(self.children(element, "rule"), 1):
            rule_id = row.get("id") or ""
            self.where = f"{table_where}: rule '{excerpt(rule_id)}' (row {index})"
            input_entries = list(self.children(row, "inputEntry"))
            output_entries = list(self.children(row, "outputEntry"))
            if len(input_entries) != input_count:
                self.problem(f"it has {len(input_entries)} input entries but the table has {input_count} inputs; "
                             "give it one input entry per input")
            if len(output_entries) != len(output_elements):
                self.problem(f"it has {len(output_entries)} output entries but the table has "
                             f"{len(output_elements)} outputs; give it one output entry per output")
            tests = tuple(self.unary_tests(entry, f"input entry {n}") for n, entry in enumerate(input_entries, 1))
            results = tuple(self.expression(entry, f"output entry {n}", empty_is_null=True)
                            for n, entry in enumerate(output_entries, 1))
            annotations = tuple(self.text_of(entry) or "" for entry in self.children(row, "annotationEntry"))
            description = self.child(row, "description")
            if description is not None and description.text:
                annotations += (description.text,)
            rules.append(Rule(rule_id, index, tests, results, annotations))
        self.where = table_where
        if hit_policy is None or len(self.problems) > before:
            return None
        return DecisionTable(element.get("id") or "", hit_policy, aggregation, tuple(inputs), tuple(outputs),
                             tuple(rules))

    def check_requirements(self, decisions: dict[str, Decision], known: set[str]) -> None:
        for decision in decisions.values():
            for required in decision.required_decisions:
                if required not in known:
                    self.problem(f"decision '{excerpt(decision.id)}' requires the decision '{excerpt(required)}', "
                                 "which is not in this resource; add it or remove the requirement")
        # Depth-first, iteratively: the longest chain below each decision, and any cycle.
        depth: dict[str, int] = {}
        on_path: set[str] = set()
        for start in decisions:
            if start in depth:
                continue
            stack: list[tuple[str, Iterator[str]]] = [(start, iter(decisions[start].required_decisions))]
            on_path.add(start)
            while stack:
                current, pending = stack[-1]
                next_required = next(pending, None)
                if next_required is None:
                    stack.pop()
                    on_path.discard(current)
                    depth[current] = 1 + max((depth.get(r, 0) for r in decisions[current].required_decisions
                                              if r in decisions), default=0)
                    continue
                if next_required not in decisions or next_required in depth:
                    continue
                if next_required in on_path:
                    path = [n for n, _ in stack]
                    cycle = path[path.index(next_required):] + [next_required]
                    self.problem("Invalid DMN model: Cyclic dependencies between decisions detected ("
                                 + " -> ".join(f"'{excerpt(n)}'" for n in cycle) + "); remove one of the requirements")
                    return
                on_path.add(next_required)
                stack.append((next_required, iter(decisions[next_required].required_decisions)))
        for decision_id, length in depth.items():
            if length > MAX_REQUIREMENT_DEPTH:
                self.problem(f"decision '{excerpt(decision_id)}' sits on a chain of {length} required decisions, "
                             f"more than the limit of {MAX_REQUIREMENT_DEPTH}; split the chain")
                return


def parse_dmn(resource_name: str, data: bytes | str) -> DecisionRequirements:
    """Parse a DMN resource, or raise DmnParseError listing every problem found."""
    root = _load(resource_name, data)
    return _Parser(resource_name, root).parse()
