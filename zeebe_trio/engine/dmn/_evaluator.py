"""Evaluating a decision, as dmn-scala (Zeebe's DMN engine) does.

Required decisions are evaluated first, recursively, in the order of their requirements, each time
they are required (a decision two others require is evaluated, and listed, twice, as in dmn-scala);
a decision sees the caller's variables plus the results of its own required decisions, each under its
result name (the variable name, else the decision id). A decision table evaluates its input
expressions, tests every rule against them (the input value is ``?`` in the unary tests), evaluates the
output entries of the matched rules and applies its hit policy; no match gives the default output
entries (null when there are none). A decision that requires business knowledge models sees each as
a FEEL function under its name: a literal expression calls it (``PMT(p, r, n)``), a boxed invocation
binds its parameters by name. The function's body sees its arguments and the models it requires, not
the decision's variables. Failures carry dmn-scala's wording, wrapped as Zeebe wraps them.

Limits: each FEEL evaluation has the FEEL budget (``feel._budget``); one evaluation evaluates at most
``MAX_EVALUATED_DECISIONS`` decisions (a graph of shared requirements can otherwise multiply them) and
``MAX_KNOWLEDGE_INVOCATIONS`` calls of business knowledge models (each call is a FEEL evaluation with
a budget of its own; the parser refuses cycles among the models, so calls cannot recurse), and,
when a ``monotonic`` clock is given, runs for at most ``MAX_DECISION_SECONDS`` in all, checked before
each FEEL evaluation (a table of many rules is many evaluations, each within its own budget). The clock
only makes an evaluation give up, never changes its value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from ..feel import Expression, FeelError, FeelFunction, Monotonic, YearMonthDuration, to_json_value
from ._errors import excerpt
from ._model import Aggregation, BusinessKnowledgeModel, Decision, DecisionTable, HitPolicy, Invocation
from ._result import DecisionResult, EvaluatedDecision, EvaluatedInput, EvaluatedOutput, MatchedRule

__all__ = ["MAX_DECISION_SECONDS", "MAX_EVALUATED_DECISIONS", "MAX_KNOWLEDGE_INVOCATIONS", "evaluate_decision"]

MAX_EVALUATED_DECISIONS = 1000
MAX_KNOWLEDGE_INVOCATIONS = 10_000
MAX_DECISION_SECONDS = 5.0
_FOUND_EXCERPT = 300

Clock = Callable[[], datetime]


class _Failure(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _scala(value: Any) -> str:
    """A value the way dmn-scala's messages print it (``ValString(a)``, ``ValNumber(1)``, ...)."""
    t = type(value)
    if value is None:
        return "ValNull"
    if t is bool:
        return f"ValBoolean({'true' if value else 'false'})"
    if t is int or t is Decimal or t is float:
        return f"ValNumber({value})"
    if t is str:
        return f"ValString({value})"
    if t is list:
        return "ValList(List(" + ", ".join(_scala(v) for v in value) + "))"
    if t is dict:
        return "ValContext(" + ", ".join(f"{k} -> {_scala(v)}" for k, v in value.items()) + ")"
    if t is datetime:
        return f"ValDateTime({value.isoformat()})" if value.tzinfo else f"ValLocalDateTime({value.isoformat()})"
    if t is date:
        return f"ValDate({value.isoformat()})"
    if t is time:
        return f"ValTime({value.isoformat()})" if value.tzinfo else f"ValLocalTime({value.isoformat()})"
    if t is timedelta:
        return f"ValDayTimeDuration({value})"
    if t is YearMonthDuration:
        return f"ValYearMonthDuration({value})"
    return f"{t.__name__}({value})"


def _rows(rows: list[dict[str, Any]]) -> str:
    text = "List(" + ", ".join("Map(" + ", ".join(f"{k} -> {_scala(v)}" for k, v in row.items()) + ")"
                              for row in rows) + ")"
    return excerpt(text, _FOUND_EXCERPT)


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: type(v) is str,
    "number": lambda v: type(v) in (int, Decimal, float),
    "boolean": lambda v: type(v) is bool,
    "time": lambda v: type(v) is time,
    "date": lambda v: type(v) is date,
    "dateTime": lambda v: type(v) is datetime,
    "dayTimeDuration": lambda v: type(v) is timedelta,
    "yearMonthDuration": lambda v: type(v) is YearMonthDuration,
}


def _check_type(value: Any, type_ref: str | None) -> None:
    if not type_ref or value is None:
        return
    name = type_ref.replace("feel:", "")
    check = _TYPE_CHECKS.get(name)
    if check is not None and not check(value):
        raise _Failure(f"expected '{name}' but found '{excerpt(_scala(value), _FOUND_EXCERPT)}'")


class _Evaluation:
    def __init__(self, decisions: Mapping[str, Decision], now: Clock | None, monotonic: Monotonic | None,
                 knowledge_models: Mapping[str, BusinessKnowledgeModel] | None = None) -> None:
        self.decisions = decisions
        self.knowledge_models = knowledge_models or {}
        self.invocations = 0
        self.now = now
        self.monotonic = monotonic
        self.audit: list[EvaluatedDecision] = []
        self.count = 0
        self.deadline = monotonic() + MAX_DECISION_SECONDS if monotonic is not None else None

    def check_time(self) -> None:
        if self.deadline is not None and self.monotonic is not None and self.monotonic() > self.deadline:
            raise _Failure(f"the evaluation took longer than {MAX_DECISION_SECONDS:g} s in all; evaluate fewer "
                           "rules or simpler expressions")

    def feel(self, expression: Expression, variables: Mapping[str, Any]) -> Any:
        self.check_time()
        try:
            return expression.evaluate(variables, now=self.now, monotonic=self.monotonic)
        except FeelError as e:
            raise _Failure(f"failed to evaluate expression '{excerpt(expression.source)}': {e}") from None

    def decision(self, decision: Decision, variables: Mapping[str, Any]) -> Any:
        self.count += 1
        if self.count > MAX_EVALUATED_DECISIONS:
            raise _Failure(f"the evaluation exceeded {MAX_EVALUATED_DECISIONS} evaluated decisions; the decision "
                           "requirements graph requires the same decisions too often")
        scope = dict(variables)
        scope.update(self.functions(decision.required_knowledge))
        results = [(self.decisions[r].result_name, self.decision(self.decisions[r], variables))
                   for r in decision.required_decisions]
        scope.update(results)
        logic = decision.logic
        if isinstance(logic, DecisionTable):
            result = self.table(decision, logic, scope)
        else:
            try:
                result = self.invoke(logic, scope) if isinstance(logic, Invocation) else self.feel(logic.expression, scope)
            except _Failure:
                self.audit.append(EvaluatedDecision(decision.id, decision.name, decision.decision_type, None))
                raise
            self.audit.append(EvaluatedDecision(decision.id, decision.name, decision.decision_type,
                                                self.json(result)))
        _check_type(result, decision.result_type)
        return result

    def functions(self, model_ids: tuple[str, ...]) -> dict[str, FeelFunction]:
        """The business knowledge models ``model_ids`` as FEEL functions, by their names."""
        return {self.knowledge_models[m].result_name: self.function(self.knowledge_models[m]) for m in model_ids}

    def function(self, model: BusinessKnowledgeModel) -> FeelFunction:
        def invoke(args: list[Any]) -> Any:
            self.invocations += 1
            if self.invocations > MAX_KNOWLEDGE_INVOCATIONS:
                raise _Failure(f"the evaluation exceeded {MAX_KNOWLEDGE_INVOCATIONS} invocations of business "
                               "knowledge models")
            if model.body is None:
                return None
            scope: dict[str, Any] = self.functions(model.required_knowledge)
            scope.update(zip(model.parameters, args, strict=True))
            return self.feel(model.body, scope)

        return FeelFunction(model.parameters, invoke, name=model.result_name)

    def invoke(self, invocation: Invocation, scope: Mapping[str, Any]) -> Any:
        """A boxed invocation: the function, called with its bindings as named arguments."""
        function = self.feel(invocation.function, scope)
        if type(function) is not FeelFunction:
            raise _Failure(f"expected a function to invoke, but '{excerpt(invocation.function.source)}' is "
                           f"'{excerpt(_scala(function), _FOUND_EXCERPT)}'")
        arguments = {name: None if value is None else self.feel(value, scope) for name, value in invocation.bindings}
        unknown = [name for name in arguments if name not in function.params]
        if unknown:
            raise _Failure(f"the invoked function has no parameter '{excerpt(unknown[0])}' (its parameters: "
                           f"{', '.join(function.params)})")
        return function.call_named(arguments)

    def json(self, value: Any) -> Any:
        try:
            return to_json_value(value)
        except FeelError as e:
            raise _Failure(f"the result cannot be written as JSON: {e}") from None

    def table(self, decision: Decision, table: DecisionTable, scope: Mapping[str, Any]) -> Any:
        inputs: list[EvaluatedInput] = []
        matched: list[MatchedRule] = []
        output: Any = None
        try:
            values = []
            evaluated_inputs = []
            for column in table.inputs:
                value = self.feel(column.expression, scope)
                values.append(value)
                evaluated_inputs.append(EvaluatedInput(column.id, column.label, self.json(value)))
            inputs = evaluated_inputs
            rules = [rule for rule in table.rules if self.matches(rule.input_entries, values, scope)]
            if not rules:
                defaults = {o.name: self.feel(o.default, scope) for o in table.outputs if o.default is not None}
                output = None if not defaults else (
                    next(iter(defaults.values())) if len(defaults) == 1 else defaults)
            else:
                if table.hit_policy is HitPolicy.FIRST:
                    rules = rules[:1]
                rows = []
                evaluated_rules = []
                for rule in rules:
                    row = {o.name: (None if entry is None else self.feel(entry, scope))
                           for o, entry in zip(table.outputs, rule.output_entries, strict=True)}
                    rows.append(row)
                    evaluated_rules.append(MatchedRule(rule.id, rule.index, tuple(
                        EvaluatedOutput(o.id, o.name, self.json(v)) for o, v in zip(table.outputs, row.values(),
                                                                                   strict=True))))
                matched = evaluated_rules
                output = self.hit_policy(table, rows)
        except _Failure:
            self.audit.append(EvaluatedDecision(decision.id, decision.name, decision.decision_type, None,
                                                tuple(inputs), tuple(matched)))
            raise
        self.audit.append(EvaluatedDecision(decision.id, decision.name, decision.decision_type, self.json(output),
                                            tuple(inputs), tuple(matched)))
        return output

    def matches(self, entries: tuple[Any, ...], values: list[Any], scope: Mapping[str, Any]) -> bool:
        for tests, value in zip(entries, values, strict=True):
            if tests is None:
                continue
            self.check_time()
            try:
                result = tests.test(value, scope, now=self.now, monotonic=self.monotonic)
            except FeelError as e:
                raise _Failure(f"failed to evaluate expression '{excerpt(tests.source)}': {e}") from None
            if result is True:
                continue
            if result is False or result is None:
                return False
            raise _Failure(f"input entry must return true, false, or null, but found '{_scala(result)}'")
        return True

    def hit_policy(self, table: DecisionTable, rows: list[dict[str, Any]]) -> Any:
        policy = table.hit_policy
        if policy is HitPolicy.FIRST:
            return _single(rows)
        if policy is HitPolicy.UNIQUE:
            if len(rows) > 1:
                raise _Failure(f"multiple values aren't allowed for UNIQUE hit policy. found: '{_rows(rows)}'")
            return _single(rows)
        if policy is HitPolicy.ANY:
            distinct: list[dict[str, Any]] = []
            for row in rows:
                if row not in distinct:
                    distinct.append(row)
            if len(distinct) > 1:
                raise _Failure(f"different values aren't allowed for ANY hit policy. found: '{_rows(distinct)}'")
            return _single(rows)
        if policy is HitPolicy.PRIORITY:
            return _single(_by_priority(table, rows))
        if policy is HitPolicy.OUTPUT_ORDER:
            return _multiple(_by_priority(table, rows))
        if policy is HitPolicy.RULE_ORDER:
            return _multiple(rows)
        # COLLECT
        if table.aggregation is Aggregation.COUNT:
            return len(rows)
        if table.aggregation is None:
            return _multiple(rows)
        numbers = []
        for row in rows:
            value = next(iter(row.values()))
            if type(value) not in (int, Decimal, float):
                raise _Failure(f"expected number but found '{excerpt(_scala(value), _FOUND_EXCERPT)}'")
            numbers.append(value if type(value) is not float else Decimal(repr(value)))
        if table.aggregation is Aggregation.SUM:
            return sum(numbers)
        return min(numbers) if table.aggregation is Aggregation.MIN else max(numbers)


def _single(rows: list[dict[str, Any]]) -> Any:
    if not rows:
        return None
    row = rows[0]
    return next(iter(row.values())) if len(row) == 1 else dict(row)


def _multiple(rows: list[dict[str, Any]]) -> Any:
    if not rows:
        return None
    if len(rows[0]) == 1:
        return [next(iter(row.values())) for row in rows]
    return [dict(row) for row in rows]


def _by_priority(table: DecisionTable, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # dmn-scala's ranking: per output, the index of the value among its outputValues ("_" when it is
    # not among them or not a string or number), the indexes concatenated as text, a stable sort.
    ranks = [(o.name, {value: str(i) for i, value in enumerate(o.output_values)}) for o in table.outputs]

    def key(row: dict[str, Any]) -> str:
        parts = []
        for name, rank in ranks:
            value = row.get(name)
            t = type(value)
            text = value if t is str else str(value) if t in (int, Decimal) else None
            parts.append(rank.get(text, "_") if text is not None else "_")
        return "".join(parts)

    return sorted(rows, key=key)


def evaluate_decision(decisions: Mapping[str, Decision], decision_id: str, variables: Mapping[str, Any], *,
                      now: Clock | None = None, monotonic: Monotonic | None = None,
                      knowledge_models: Mapping[str, BusinessKnowledgeModel] | None = None) -> DecisionResult:
    """Evaluate ``decision_id`` of ``decisions`` (a graph's decisions by id, invoking its
    ``knowledge_models``) with ``variables`` (JSON-decoded values); a failed evaluation is a result
    with ``failure_message``, never raised."""
    decision = decisions.get(decision_id)
    if decision is None:
        return DecisionResult(decision_id, None, (), decision_id, f"Expected to evaluate decision "
                              f"'{excerpt(decision_id)}', but no decision found with id '{excerpt(decision_id)}'")
    evaluation = _Evaluation(decisions, now, monotonic, knowledge_models)
    try:
        output = evaluation.decision(decision, variables)
        json_output = evaluation.json(output)
    except _Failure as failure:
        audit = tuple(evaluation.audit)
        failed = audit[-1].decision_id if audit else decision_id
        return DecisionResult(decision_id, None, audit, failed,
                              f"Expected to evaluate decision '{decision_id}', but {failure.message}")
    except RecursionError:
        audit = tuple(evaluation.audit)
        return DecisionResult(decision_id, None, audit, audit[-1].decision_id if audit else decision_id,
                              f"Expected to evaluate decision '{decision_id}', but the evaluation nested too deeply")
    return DecisionResult(decision_id, json_output, tuple(evaluation.audit))
