"""Turns the syntax tree into nested Python closures, once, so evaluation never re-walks the tree.

Every compiled node is a function ``(scope) -> value``. Name resolution is decided at compile time
from the static nesting (for-loop variables, function parameters, filter items, context entries):
a name read at the top level compiles to one dict lookup on the caller's variables.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import _ast as ast
from ._budget import (
    CHECKPOINT_STEPS,
    CONTEXT_ENTRY_SIZE,
    CONTEXT_SIZE,
    LIST_ITEM_SIZE,
    LIST_SIZE,
    MAX_ALLOCATION,
    MAX_ITERATIONS,
    MAX_STRING_LENGTH,
    STRING_SIZE,
    EvaluationBudget,
    Monotonic,
    allocation_exceeded,
    check_list_size,
    check_string_length,
)
from ._builtins import BUILTINS, CAUGHT, Builtin, call_builtin
from ._errors import FeelEvaluationError
from ._scope import Scope
from ._temporal import (
    YearMonthDuration,
    duration_ratio,
    parse_temporal_literal,
    scale_duration,
    temporal_add,
    temporal_property,
    temporal_subtract,
)
from ._values import (
    DECIMAL_CONTEXT,
    INT_LIMIT,
    MAX_CALL_DEPTH,
    NUMBER_TYPES,
    FeelFunction,
    FeelRange,
    decimal_from_float,
    feel_compare,
    feel_equal,
    is_instance,
    normalize_int,
    to_number,
)

Compiled = Callable[["Scope"], Any]
_EMPTY: Mapping[str, Any] = {}


class Root(EvaluationBudget):
    """The outermost scope of one evaluation: the caller's variables, the clock of ``now()``, and
    (inherited) the evaluation's budget."""

    __slots__ = ("now", "depth")

    def __init__(self, variables: Mapping[str, Any], now: Callable[[], datetime] | None,
                 monotonic: Monotonic | None = None) -> None:
        self.vars = variables
        self.parent = None
        self.root = self
        self.item = None
        self.now = now
        self.depth = 0
        self.steps = 0
        self.allocated = 0
        self.monotonic = monotonic
        self.deadline = None


class _Static:
    """What the compiler knows about one scope level."""

    __slots__ = ("names", "dynamic", "is_filter", "repeats")

    def __init__(self, names: frozenset[str], dynamic: bool = False, is_filter: bool = False,
                 repeats: bool = False) -> None:
        self.names = names  # names certainly bound here (fixed) or possibly bound (dynamic)
        self.dynamic = dynamic
        self.is_filter = is_filter
        self.repeats = repeats  # code here may run many times per evaluation (loops, functions, filters)


def _norm(value: Any) -> Any:
    return decimal_from_float(value) if type(value) is float else value


# --- arithmetic ----------------------------------------------------------------------------------


def _num(value: Any) -> Any:
    return decimal_from_float(value) if type(value) is float else value


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        r = a + b
        return r if -INT_LIMIT < r < INT_LIMIT else normalize_int(r)
    if ta in NUMBER_TYPES and tb in NUMBER_TYPES:
        try:
            return DECIMAL_CONTEXT.add(_num(a), _num(b))
        except (ArithmeticError, TypeError):
            return None
    if a is None or b is None:
        return None
    try:
        return temporal_add(a, b)
    except (OverflowError, ValueError):
        return None


def concatenate(root: Root, a: str, b: str) -> str:
    """``a + b`` for two strings (``add`` has no budget to charge, so callers check for strings first)."""
    size = len(a) + len(b)
    if size > MAX_STRING_LENGTH:
        check_string_length(size)
    allocated = root.allocated = root.allocated + STRING_SIZE + size  # root.charge, inlined: hot
    if allocated > MAX_ALLOCATION:
        raise allocation_exceeded()
    return a + b


def subtract(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        r = a - b
        return r if -INT_LIMIT < r < INT_LIMIT else normalize_int(r)
    if ta in NUMBER_TYPES and tb in NUMBER_TYPES:
        try:
            return DECIMAL_CONTEXT.subtract(_num(a), _num(b))
        except (ArithmeticError, TypeError):
            return None
    if a is None or b is None:
        return None
    try:
        return temporal_subtract(a, b)
    except (OverflowError, ValueError):
        return None


def multiply(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return normalize_int(a * b)
    if ta in NUMBER_TYPES and tb in NUMBER_TYPES:
        try:
            return DECIMAL_CONTEXT.multiply(_num(a), _num(b))
        except (ArithmeticError, TypeError):
            return None
    if a is None or b is None:
        return None
    if ta in NUMBER_TYPES:
        a, b = b, a
        tb = ta
    if tb in NUMBER_TYPES:
        try:
            return scale_duration(a, Decimal(_num(b)))
        except (ArithmeticError, OverflowError, ValueError, TypeError):
            return None
    return None


def divide(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta in NUMBER_TYPES and tb in NUMBER_TYPES:
        a, b = _num(a), _num(b)
        if not b or a is None or b is None:
            return None
        try:
            return DECIMAL_CONTEXT.divide(Decimal(a), Decimal(b))
        except (ArithmeticError, TypeError):
            return None
    if a is None or b is None:
        return None
    try:
        if tb in NUMBER_TYPES:
            b = _num(b)
            if not b:
                return None
            return scale_duration(a, DECIMAL_CONTEXT.divide(Decimal(1), Decimal(b)))
        return duration_ratio(a, b)
    except (ArithmeticError, OverflowError, ValueError, TypeError):
        return None


def power(a: Any, b: Any) -> Any:
    a, b = to_number(a), to_number(b)
    if a is None or b is None:
        return None
    try:
        if type(b) is Decimal and b == b.to_integral_value():
            b = int(b)
        if type(b) is int and abs(b) > 999_999_999:
            return None
        if type(a) is int and type(b) is int and 0 <= b and a.bit_length() * b < 120:
            return normalize_int(a**b)
        return DECIMAL_CONTEXT.power(Decimal(a), b if type(b) is int else Decimal(b))
    except (ArithmeticError, TypeError, ValueError):
        return None


def negate(value: Any) -> Any:
    t = type(value)
    if t is int:
        return -value
    if t is Decimal or t is float:
        return DECIMAL_CONTEXT.minus(_num(value))
    if t is YearMonthDuration:
        return YearMonthDuration(-value.months)
    if value is None:
        return None
    try:
        return -value
    except (TypeError, OverflowError):
        return None


_ARITHMETIC = {"+": add, "-": subtract, "*": multiply, "/": divide, "**": power}


def not_equal(a: Any, b: Any) -> bool | None:
    result = feel_equal(a, b)
    return None if result is None else not result


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _ordering(op: str) -> Callable[[Any, Any], bool | None]:
    test = _ORDERINGS[op]

    def compare(a: Any, b: Any) -> bool | None:
        c = feel_compare(a, b)
        return None if c is None else test(c, 0)

    return compare


COMPARATORS: dict[str, Callable[[Any, Any], bool | None]] = {
    "=": feel_equal, "!=": not_equal, **{op: _ordering(op) for op in _ORDERINGS},
}


def _equality(op: str) -> Callable[[Root, Any, Any], bool | None]:
    """``=`` or ``!=`` with the evaluation's budget, for the lists and contexts they may compare."""
    if op == "=":
        return lambda root, a, b: feel_equal(a, b, root)

    def unequal(root: Root, a: Any, b: Any) -> bool | None:
        result = feel_equal(a, b, root)
        return None if result is None else not result

    return unequal


def _member(value: Any, name: str, root: Root) -> Any:
    """``value.name`` for any value: context entry, list projection, temporal or range property."""
    t = type(value)
    if t is dict:
        return _norm(value.get(name))
    if t is list:
        root.charge(LIST_SIZE + LIST_ITEM_SIZE * len(value))
        return [_member(v, name, root) for v in value]
    if t is FeelRange:
        return {
            "start": value.start, "end": value.end,
            "start included": value.start_included, "end included": value.end_included,
        }.get(name)
    if value is None:
        return None
    return temporal_property(value, name)


def _index(value: Any, index: Any) -> Any:
    if type(value) is not list:
        value = [value]
    index = to_number(index)
    if index is None or index != int(index):
        return None
    i = int(index)
    n = len(value)
    if 0 < i <= n:
        return _norm(value[i - 1])
    if -n <= i < 0:
        return _norm(value[n + i])
    return None


def integer_range(start: Any, end: Any) -> range | None:
    """The items of ``start..end`` (either direction, both ends included); None if not integers.

    A range, not a list: loops take its numbers one at a time, so it costs no memory of its own."""
    start, end = to_number(start), to_number(end)
    if start is None or end is None or start != int(start) or end != int(end):
        return None
    start, end = int(start), int(end)
    size = abs(end - start) + 1
    if size > MAX_ITERATIONS:
        raise FeelEvaluationError(
            f"the range {start}..{end} has {size} items, more than the limit of {MAX_ITERATIONS}"
        )
    return range(start, end + 1) if start <= end else range(start, end - 1, -1)


# --- analysis --------------------------------------------------------------------------------------


def free_names(node: ast.Node, bound: frozenset[str] = frozenset()) -> set[str]:
    """Names a node reads that it does not bind itself (best effort; filters may read item members)."""
    out: set[str] = set()
    stack: list[tuple[ast.Node, frozenset[str]]] = [(node, bound)]
    while stack:
        current, names = stack.pop()
        if isinstance(current, ast.Name):
            if current.name not in names:
                out.add(current.name)
        elif isinstance(current, ast.Call) and isinstance(current.callee, ast.Name):
            name = current.callee.name
            if name not in BUILTINS and name not in names:
                out.add(name)
            stack.extend((arg, names) for arg in [*current.args, *(current.named or {}).values()])
        elif isinstance(current, (ast.For, ast.Quantified)):
            inner = names
            for iteration in current.iterations:
                stack.append((iteration.source, inner))
                if iteration.range_end is not None:
                    stack.append((iteration.range_end, inner))
                inner = inner | {iteration.name}
            body = current.body if isinstance(current, ast.For) else current.condition
            stack.append((body, inner | {"partial"}))
        elif isinstance(current, ast.FunctionDefinition):
            stack.append((current.body, names | set(current.params)))
        elif isinstance(current, ast.ContextLiteral):
            inner = names
            for key, value in current.entries:
                stack.append((value, inner))
                inner = inner | {key}
        elif isinstance(current, ast.Filter):
            stack.append((current.base, names))
            stack.append((current.predicate, names | {"item"}))
        else:
            stack.extend((child, names) for child in ast.children(current))
    return out


_BOOLEAN_NODES = (ast.And, ast.Or, ast.Between, ast.In, ast.InstanceOf, ast.Quantified)


def _is_boolean(node: ast.Node) -> bool:
    if isinstance(node, _BOOLEAN_NODES):
        return True
    if isinstance(node, ast.Binary) and node.op in COMPARATORS:
        return True
    if isinstance(node, ast.Literal) and type(node.value) is bool:
        return True
    return (
        isinstance(node, ast.Call) and isinstance(node.callee, ast.Name)
        and node.callee.name in ("not", "is defined", "contains", "starts with", "ends with",
                                 "matches", "list contains", "is empty")
    )


def _number_literal(node: ast.Node) -> Any:
    if isinstance(node, ast.Literal) and type(node.value) in (int, Decimal):
        return node.value
    if isinstance(node, ast.Negation) and isinstance(node.operand, ast.Literal) and type(
        node.operand.value
    ) in (int, Decimal):
        return -node.operand.value
    return None


# --- the compiler ---------------------------------------------------------------------------------


class Compiler:
    def __init__(self) -> None:
        self.chain: list[_Static] = []  # innermost last

    def compile(self, node: ast.Node) -> Compiled:
        method = getattr(self, "c_" + type(node).__name__)
        return method(node)  # type: ignore[no-any-return]

    def push(self, static: _Static) -> None:
        self.chain.append(static)

    def pop(self) -> None:
        self.chain.pop()

    def repeated(self) -> bool:
        """Whether the node being compiled may run many times in one evaluation. Literal lists and
        contexts outside loops, functions and filters are not charged: the source bounds them."""
        return any(s.repeats for s in self.chain)

    def is_bound(self, name: str) -> bool:
        return any(name in s.names for s in self.chain)

    # --- names ---

    def lookup_plan(self, name: str) -> list[tuple[str, int]]:
        """Steps to find name: ('fixed'|'check'|'item'|'root', levels up from the current scope)."""
        plan: list[tuple[str, int]] = []
        up = 0
        for static in reversed(self.chain):
            if static.is_filter:
                if name == "item":
                    plan.append(("item", up))
                    return plan
                plan.append(("check", up))
            elif name in static.names:
                if not static.dynamic:
                    plan.append(("fixed", up))
                    return plan
                plan.append(("check", up))
            up += 1
        plan.append(("root", up))
        return plan

    def lookup(self, name: str) -> Compiled:
        plan = self.lookup_plan(name)
        if plan == [("root", 0)]:
            def root_name(scope: Scope) -> Any:
                v = scope.vars.get(name)
                return decimal_from_float(v) if type(v) is float else v
            return root_name
        if plan == [("fixed", 0)]:
            def local_name(scope: Scope) -> Any:
                v = scope.vars[name]
                return decimal_from_float(v) if type(v) is float else v
            return local_name
        if plan == [("item", 0)]:
            def item(scope: Scope) -> Any:
                return scope.item
            return item
        if plan == [("check", 0), ("root", 1)]:
            def member_or_root(scope: Scope) -> Any:
                d = scope.vars
                v = d[name] if name in d else scope.parent.vars.get(name)  # type: ignore[union-attr]
                return decimal_from_float(v) if type(v) is float else v
            return member_or_root
        steps = tuple(plan)

        def general(scope: Scope) -> Any:
            s: Any = scope
            level = 0
            for kind, up in steps:
                while level < up:
                    s = s.parent
                    level += 1
                if kind == "check":
                    d = s.vars
                    if name in d:
                        return _norm(d[name])
                    continue
                if kind == "item":
                    return s.item
                if kind == "fixed":
                    return _norm(s.vars[name])
                return _norm(s.vars.get(name))
            return None

        return general

    def presence(self, name: str) -> Callable[[Scope], bool]:
        """Whether name is bound at all (for ``is defined``)."""
        steps = tuple(self.lookup_plan(name))

        def present(scope: Scope) -> bool:
            s: Any = scope
            level = 0
            for kind, up in steps:
                while level < up:
                    s = s.parent
                    level += 1
                if kind == "check":
                    if name in s.vars:
                        return True
                    continue
                return kind != "root" or name in s.vars
            return False

        return present

    def c_Name(self, node: ast.Name) -> Compiled:
        return self.lookup(node.name)

    # --- literals ---

    def c_Literal(self, node: ast.Literal) -> Compiled:
        value = node.value
        return lambda scope: value

    def c_TemporalLiteral(self, node: ast.TemporalLiteral) -> Compiled:
        value = parse_temporal_literal(node.text)
        return lambda scope: value

    def c_ListLiteral(self, node: ast.ListLiteral) -> Compiled:
        items = [self.compile(item) for item in node.items]
        if not self.repeated():
            return lambda scope: [item(scope) for item in items]
        size = LIST_SIZE + LIST_ITEM_SIZE * len(items)

        def list_literal(scope: Scope) -> list[Any]:
            scope.root.charge(size)
            return [item(scope) for item in items]

        return list_literal

    def c_ContextLiteral(self, node: ast.ContextLiteral) -> Compiled:
        keys = [key for key, _ in node.entries]
        key_set = frozenset(keys)
        uses_keys = any(
            free_names(value) & key_set or ast.contains(value, ast.FunctionDefinition)
            for _, value in node.entries
        )
        size = CONTEXT_SIZE + CONTEXT_ENTRY_SIZE * len(keys) if self.repeated() else 0
        if not uses_keys:
            entries = [(key, self.compile(value)) for key, value in node.entries]
            if not size:
                return lambda scope: {key: value(scope) for key, value in entries}

            def plain_context(scope: Scope) -> dict[str, Any]:
                scope.root.charge(size)
                return {key: value(scope) for key, value in entries}

            return plain_context
        self.push(_Static(key_set, dynamic=True))
        try:
            compiled = [(key, self.compile(value)) for key, value in node.entries]
        finally:
            self.pop()

        def context(scope: Scope) -> dict[str, Any]:
            if size:
                scope.root.charge(size)
            result: dict[str, Any] = {}
            inner = Scope(result, scope, scope.root)
            for key, value in compiled:
                result[key] = value(inner)
            return result

        return context

    def c_RangeLiteral(self, node: ast.RangeLiteral) -> Compiled:
        start = self.compile(node.start) if node.start is not None else (lambda scope: None)
        end = self.compile(node.end) if node.end is not None else (lambda scope: None)
        start_included, end_included = node.start_included, node.end_included

        def range_value(scope: Scope) -> Any:
            lo, hi = start(scope), end(scope)
            if lo is not None and hi is not None and feel_compare(lo, hi) is None:
                return None
            return FeelRange(lo, hi, start_included, end_included)

        return range_value

    # --- operators ---

    def c_Negation(self, node: ast.Negation) -> Compiled:
        literal = _number_literal(node)
        if literal is not None:
            return lambda scope: literal
        operand = self.compile(node.operand)
        return lambda scope: negate(operand(scope))

    def c_Binary(self, node: ast.Binary) -> Compiled:
        op = node.op
        if op in COMPARATORS:
            return self.comparison(node)
        if isinstance(node.left, ast.Binary) and node.left.op in _ARITHMETIC:
            return self.arithmetic_chain(node)
        fn = _ARITHMETIC[op]
        left, right = self.compile(node.left), self.compile(node.right)
        if op == "+":
            def plus(scope: Scope) -> Any:
                a, b = left(scope), right(scope)
                if type(a) is int and type(b) is int:
                    r = a + b
                    if -INT_LIMIT < r < INT_LIMIT:
                        return r
                elif type(a) is str and type(b) is str:
                    return concatenate(scope.root, a, b)
                return add(a, b)
            return plus
        return lambda scope: fn(left(scope), right(scope))

    def arithmetic_chain(self, node: ast.Binary) -> Compiled:
        """``a + b - c * d ...`` along the left spine, as one loop (no recursion per operator)."""
        steps: list[tuple[Callable[[Any, Any], Any], Compiled]] = []
        current: ast.Node = node
        while isinstance(current, ast.Binary) and current.op in _ARITHMETIC:
            steps.append((_ARITHMETIC[current.op], self.compile(current.right)))
            current = current.left
        first = self.compile(current)
        steps.reverse()

        def chain(scope: Scope) -> Any:
            v = first(scope)
            for fn, operand in steps:
                b = operand(scope)
                if type(v) is str and type(b) is str and fn is add:
                    v = concatenate(scope.root, v, b)
                else:
                    v = fn(v, b)
            return v

        return chain

    def comparison(self, node: ast.Binary) -> Compiled:
        op = node.op
        generic = COMPARATORS[op]
        left = self.compile(node.left)
        literal = node.right.value if isinstance(node.right, ast.Literal) else _number_literal(node.right)
        if literal is not None and op in _ORDERINGS and type(literal) in (int, Decimal):
            test = _ORDERINGS[op]
            if isinstance(node.left, ast.Name) and self.lookup_plan(node.left.name) == [("root", 0)]:
                name = node.left.name

                def name_vs_number(scope: Scope) -> Any:
                    v = scope.vars.get(name)
                    t = type(v)
                    if t is int or t is Decimal:
                        return test(v, literal)
                    return generic(v, literal)

                return name_vs_number
            if isinstance(node.left, ast.Name) and self.lookup_plan(node.left.name) == [
                ("check", 0), ("root", 1),
            ]:
                name = node.left.name

                def member_vs_number(scope: Scope) -> Any:
                    d = scope.vars
                    v = d[name] if name in d else scope.parent.vars.get(name)  # type: ignore[union-attr]
                    t = type(v)
                    if t is int or t is Decimal:
                        return test(v, literal)
                    return generic(v, literal)

                return member_vs_number

            def value_vs_number(scope: Scope) -> Any:
                v = left(scope)
                t = type(v)
                if t is int or t is Decimal:
                    return test(v, literal)
                return generic(v, literal)

            return value_vs_number
        if literal is not None and op in ("=", "!=") and type(literal) in (str, int):
            kind = type(literal)
            negated = op == "!="

            def value_equals_literal(scope: Scope) -> Any:
                v = left(scope)
                if type(v) is kind:
                    return (v == literal) != negated
                return generic(v, literal)

            return value_equals_literal
        right = self.compile(node.right)
        if op in ("=", "!="):
            equality = _equality(op)
            return lambda scope: equality(scope.root, left(scope), right(scope))
        return lambda scope: generic(left(scope), right(scope))

    def c_And(self, node: ast.And) -> Compiled:
        if isinstance(node.left, ast.And):
            return self.logic_chain(node, ast.And, False)
        left, right = self.compile(node.left), self.compile(node.right)

        def conjunction(scope: Scope) -> bool | None:
            a = left(scope)
            if a is False:
                return False
            b = right(scope)
            if b is False:
                return False
            if a is True and b is True:
                return True
            return None

        return conjunction

    def logic_chain(self, node: ast.Node, kind: type, decisive: bool) -> Compiled:
        """``a and b and c ...`` (decisive False) or ``a or b or c ...`` (decisive True) as a loop."""
        operands: list[Compiled] = []
        current: ast.Node = node
        while isinstance(current, kind):
            operands.append(self.compile(current.right))  # type: ignore[attr-defined]
            current = current.left  # type: ignore[attr-defined]
        operands.append(self.compile(current))
        operands.reverse()

        def chain(scope: Scope) -> bool | None:
            result: bool | None = not decisive
            for operand in operands:
                v = operand(scope)
                if v is decisive:
                    return decisive
                if v is not (not decisive):
                    result = None
            return result

        return chain

    def c_Or(self, node: ast.Or) -> Compiled:
        if isinstance(node.left, ast.Or):
            return self.logic_chain(node, ast.Or, True)
        left, right = self.compile(node.left), self.compile(node.right)

        def disjunction(scope: Scope) -> bool | None:
            a = left(scope)
            if a is True:
                return True
            b = right(scope)
            if b is True:
                return True
            if a is False and b is False:
                return False
            return None

        return disjunction

    def c_Between(self, node: ast.Between) -> Compiled:
        value, low, high = self.compile(node.value), self.compile(node.low), self.compile(node.high)

        def between(scope: Scope) -> bool | None:
            v = value(scope)
            lo = feel_compare(v, low(scope))
            hi = feel_compare(v, high(scope))
            if lo is not None and lo < 0 or hi is not None and hi > 0:
                return False
            if lo is None or hi is None:
                return None
            return True

        return between

    def c_InstanceOf(self, node: ast.InstanceOf) -> Compiled:
        value = self.compile(node.value)
        type_text = node.type_name
        return lambda scope: is_instance(value(scope), type_text)

    # --- unary tests ---

    def c_In(self, node: ast.In) -> Compiled:
        value = self.compile(node.value)
        mentions_input = any("?" in free_names(t) for t in node.tests)
        if mentions_input:
            self.push(_Static(frozenset({"?"})))
        try:
            tests = [self.test(t) for t in node.tests]
        finally:
            if mentions_input:
                self.pop()
        combined = _disjunction(tests)
        if not mentions_input:
            return lambda scope: combined(scope, value(scope))

        def with_input(scope: Scope) -> bool | None:
            v = value(scope)
            return combined(Scope({"?": v}, scope, scope.root), v)

        return with_input

    def test(self, node: ast.Node) -> Callable[[Scope, Any], bool | None]:
        if isinstance(node, ast.TestAny):
            return lambda scope, v: True
        if isinstance(node, ast.TestNot):
            inner = _disjunction([self.test(t) for t in node.tests])

            def negated(scope: Scope, v: Any) -> bool | None:
                r = inner(scope, v)
                return None if r is None else not r

            return negated
        if isinstance(node, ast.TestCompare):
            operand = self.compile(node.operand)
            if node.op in ("=", "!="):
                equality = _equality(node.op)
                return lambda scope, v: equality(scope.root, v, operand(scope))
            compare = COMPARATORS[node.op]
            return lambda scope, v: compare(v, operand(scope))
        assert isinstance(node, ast.TestExpression)
        expression = node.expression
        if isinstance(expression, ast.RangeLiteral):
            range_value = self.compile(expression)

            def in_range(scope: Scope, v: Any) -> bool | None:
                r = range_value(scope)
                return None if r is None else r.contains(v)

            return in_range
        compiled = self.compile(expression)
        uses_input = "?" in free_names(expression)

        def matches(scope: Scope, v: Any) -> bool | None:
            r = compiled(scope)
            t = type(r)
            if t is bool and uses_input:
                return r
            root = scope.root
            if t is list:
                if type(v) is list and feel_equal(v, r, root) is True:
                    return True
                # a range in the list is a test of its own (DMN TCK 0072: `1 in [[2..4], [1..3]]`)
                return any((x.contains(v) if type(x) is FeelRange else feel_equal(v, x, root)) is True for x in r)
            if t is FeelRange:
                return r.contains(v)
            return feel_equal(v, r, root)

        return matches

    def c_TestExpression(self, node: ast.TestExpression) -> Compiled:
        test = self.test(node)
        read_input = self.lookup("?")
        return lambda scope: test(scope, read_input(scope))

    c_TestCompare = c_TestExpression
    c_TestAny = c_TestExpression
    c_TestNot = c_TestExpression

    # --- control flow ---

    def c_If(self, node: ast.If) -> Compiled:
        condition = self.compile(node.condition)
        then, otherwise = self.compile(node.then), self.compile(node.otherwise)
        return lambda scope: then(scope) if condition(scope) is True else otherwise(scope)

    def iteration_sources(self, iterations: list[ast.Iteration]) -> list[tuple[str, Compiled, Compiled | None]]:
        """Compiles each iteration source in a scope where the earlier iteration names are bound."""
        names = frozenset(it.name for it in iterations) | {"partial"}
        self.push(_Static(names, repeats=True))
        try:
            return [
                (
                    it.name,
                    self.compile(it.source),
                    self.compile(it.range_end) if it.range_end is not None else None,
                )
                for it in iterations
            ]
        finally:
            self.pop()

    def c_For(self, node: ast.For) -> Compiled:
        sources = self.iteration_sources(node.iterations)
        names = frozenset(it.name for it in node.iterations) | {"partial"}
        self.push(_Static(names, repeats=True))
        try:
            body = self.compile(node.body)
        finally:
            self.pop()
        fresh_scopes = ast.contains(node.body, ast.FunctionDefinition)
        uses_partial = "partial" in free_names(node.body, frozenset(it.name for it in node.iterations))
        last = len(sources) - 1

        def for_expression(scope: Scope) -> Any:
            root = scope.root
            results: list[Any] = []
            variables: dict[str, Any] = {"partial": results}
            inner = Scope(variables, scope, root)
            failed = False

            def loop(level: int) -> None:
                nonlocal failed
                name, source, range_end = sources[level]
                items = _iteration_items(source(inner), range_end(inner) if range_end else None, range_end)
                if items is None:
                    failed = True
                    return
                root.spend(len(items))
                each: Iterable[Any] = root.paced(items) if len(items) > CHECKPOINT_STEPS else items
                for x in each:
                    variables[name] = x
                    if level < last:
                        loop(level + 1)
                        if failed:
                            return
                        continue
                    if uses_partial:
                        root.spend(len(results))
                        root.charge(LIST_SIZE + LIST_ITEM_SIZE * len(results))
                        variables["partial"] = list(results)
                    if fresh_scopes:
                        results.append(body(Scope(dict(variables), scope, root)))
                    else:
                        results.append(body(inner))
                check_list_size(len(results))

            loop(0)
            if failed:
                return None
            root.charge(LIST_SIZE + LIST_ITEM_SIZE * len(results))
            return results

        return for_expression

    def c_Quantified(self, node: ast.Quantified) -> Compiled:
        sources = self.iteration_sources(node.iterations)
        names = frozenset(it.name for it in node.iterations)
        self.push(_Static(names | {"partial"}, repeats=True))
        try:
            condition = self.compile(node.condition)
        finally:
            self.pop()
        every = node.every
        last = len(sources) - 1

        def quantified(scope: Scope) -> bool | None:
            root = scope.root
            variables: dict[str, Any] = {"partial": None}
            inner = Scope(variables, scope, root)

            def loop(level: int) -> bool | None:
                """True when the quantifier is decided (some: found; every: counterexample)."""
                name, source, range_end = sources[level]
                items = _iteration_items(source(inner), range_end(inner) if range_end else None, range_end)
                if items is None:
                    return None
                root.spend(len(items))
                each: Iterable[Any] = root.paced(items) if len(items) > CHECKPOINT_STEPS else items
                for x in each:
                    variables[name] = x
                    if level < last:
                        decided = loop(level + 1)
                        if decided is not False:
                            return decided
                    elif (condition(inner) is True) != every:
                        return True
                return False

            decided = loop(0)
            if decided is None:
                return None
            return decided != every

        return quantified

    def c_FunctionDefinition(self, node: ast.FunctionDefinition) -> Compiled:
        params = tuple(node.params)
        self.push(_Static(frozenset(params), repeats=True))
        try:
            body = self.compile(node.body)
        finally:
            self.pop()

        def define(scope: Scope) -> FeelFunction:
            root = scope.root

            def invoke(args: list[Any]) -> Any:
                root.spend(1)  # bounds the total number of calls (recursion, sort comparisons)
                root.depth += 1
                try:
                    if root.depth > MAX_CALL_DEPTH:
                        raise FeelEvaluationError(
                            f"function calls nested more than {MAX_CALL_DEPTH} deep (unbounded recursion?)"
                        )
                    return body(Scope(dict(zip(params, args, strict=True)), scope, root))
                finally:
                    root.depth -= 1

            return FeelFunction(params, invoke)

        return define

    # --- calls ---

    def c_Call(self, node: ast.Call) -> Compiled:
        callee = node.callee
        if isinstance(callee, ast.Name) and callee.name in BUILTINS and not self.is_bound(callee.name):
            return self.builtin_call(callee.name, node)
        function = self.compile(callee)
        args = [self.compile(a) for a in node.args]
        if node.named is not None:
            named = {k: self.compile(v) for k, v in node.named.items()}

            def call_named(scope: Scope) -> Any:
                f = function(scope)
                if type(f) is not FeelFunction:
                    return None
                return f.call_named({k: v(scope) for k, v in named.items()})

            return call_named

        def call(scope: Scope) -> Any:
            f = function(scope)
            if type(f) is not FeelFunction:
                return None
            return f.call([a(scope) for a in args])

        return call

    def builtin_call(self, name: str, node: ast.Call) -> Compiled:
        if name == "is defined" and len(node.args) == 1 and not node.named:
            return self.is_defined(node.args[0])
        overloads = BUILTINS[name]
        if node.named is not None:
            names = set(node.named)
            found = _choose_named(overloads, names)
            if found is None:
                return lambda scope: None
            chosen: Builtin = found
            params = chosen.params
            named = {k: self.compile(v) for k, v in node.named.items()}
            order = [named.get(p) for p in params]

            def call_builtin_named(scope: Scope) -> Any:
                args = [None if a is None else a(scope) for a in order]
                if chosen.variadic and args and type(args[-1]) is list:
                    args = args[:-1] + args[-1]
                return call_builtin(chosen, scope, args)

            return call_builtin_named
        args = [self.compile(a) for a in node.args]
        positional = _choose_positional(overloads, len(args))
        if positional is None:
            return lambda scope: None
        chosen = positional
        if len(args) == 1:
            (arg,) = args
            fn = chosen.fn
            charged = chosen.charge_result
            needs_root = chosen.needs_root

            def call_builtin_1(scope: Scope) -> Any:  # call_builtin for one argument, without a list
                value = arg(scope)
                try:
                    result = fn(scope.root, value) if needs_root else fn(value)
                except CAUGHT:
                    return None
                t = type(result)
                if (t is str or t is list or t is dict) and charged and result is not value:
                    scope.root.charge_value(result)
                return result

            return call_builtin_1
        return lambda scope: call_builtin(chosen, scope, [a(scope) for a in args])

    def is_defined(self, arg: ast.Node) -> Compiled:
        if isinstance(arg, ast.Name):
            return self.presence(arg.name)
        if isinstance(arg, ast.Path):
            base = self.compile(arg.base)
            member = arg.member

            def member_present(scope: Scope) -> bool:
                b = base(scope)
                if type(b) is dict:
                    return member in b
                return _member(b, member, scope.root) is not None

            return member_present
        value = self.compile(arg)
        return lambda scope: value(scope) is not None

    # --- paths and filters ---

    def c_Path(self, node: ast.Path) -> Compiled:
        members: list[str] = []
        base: ast.Node = node
        while isinstance(base, ast.Path):
            members.append(base.member)
            base = base.base
        members.reverse()
        start = self.compile(base)
        if len(members) == 1:
            (member,) = members

            def path1(scope: Scope) -> Any:
                v = start(scope)
                if type(v) is dict:
                    v = v.get(member)
                    return decimal_from_float(v) if type(v) is float else v
                return _member(v, member, scope.root)

            return path1

        def path(scope: Scope) -> Any:
            v = start(scope)
            for member in members:
                if type(v) is dict:
                    v = v.get(member)
                else:
                    v = _member(v, member, scope.root)
            return decimal_from_float(v) if type(v) is float else v

        return path

    def c_Filter(self, node: ast.Filter) -> Compiled:
        base = self.compile(node.base)
        index = _number_literal(node.predicate)
        if index is not None:
            return lambda scope: _index(base(scope), index)
        self.push(_Static(frozenset(), is_filter=True, repeats=True))
        try:
            predicate = self.compile(node.predicate)
        finally:
            self.pop()
        fresh_scopes = ast.contains(node.predicate, ast.FunctionDefinition)

        def select(scope: Scope, items: Any) -> Any:
            if type(items) is not list:
                if items is None:
                    return None
                items = [items]
            root = scope.root
            root.spend(len(items))
            out: list[Any] = []
            inner = Scope(_EMPTY, scope, root)
            if len(items) > CHECKPOINT_STEPS:
                items = root.paced(items)
            for x in items:
                if fresh_scopes:
                    inner = Scope(_EMPTY, scope, root)
                if type(x) is dict:
                    inner.vars = x
                    inner.item = x
                else:
                    inner.vars = _EMPTY
                    inner.item = decimal_from_float(x) if type(x) is float else x
                if predicate(inner) is True:
                    out.append(inner.item)
            # Not charged: it keeps at most the items it spent a step on (8 MB at the step limit).
            return out

        if _is_boolean(node.predicate):
            return lambda scope: select(scope, base(scope))
        outer_predicate = self.compile(node.predicate)

        def filter_or_index(scope: Scope) -> Any:
            items = base(scope)
            key = outer_predicate(scope)
            if type(key) in NUMBER_TYPES:
                return _index(items, key)
            return select(scope, items)

        return filter_or_index


def _disjunction(tests: list[Callable[[Scope, Any], bool | None]]) -> Callable[[Scope, Any], bool | None]:
    if len(tests) == 1:
        return tests[0]

    def any_test(scope: Scope, v: Any) -> bool | None:
        result: bool | None = False
        for test in tests:
            r = test(scope, v)
            if r is True:
                return True
            if r is None:
                result = None
        return result

    return any_test


def _iteration_items(value: Any, end: Any, has_end: Any) -> Sequence[Any] | None:
    if has_end is not None:
        return integer_range(value, end)
    if type(value) is list:
        return value
    if type(value) is FeelRange:
        if value.start is None or value.end is None:
            return None
        items = integer_range(value.start, value.end)
        if items is None:
            return None
        if not value.start_included:
            items = items[1:]
        if not value.end_included:
            items = items[:-1]
        return items
    return None


def _choose_positional(overloads: list[Builtin], count: int) -> Builtin | None:
    for overload in overloads:
        if len(overload.params) == count and not overload.variadic:
            return overload
    for overload in overloads:
        if overload.variadic and count >= len(overload.params) - 1:
            return overload
    for overload in overloads:  # trailing optional parameters
        if overload.required <= count <= len(overload.params) and not overload.variadic:
            return overload
    return None


def _choose_named(overloads: list[Builtin], names: set[str]) -> Builtin | None:
    for overload in sorted(overloads, key=lambda o: len(o.params)):
        params = set(overload.params)
        if names <= params and set(overload.params[: overload.required]) <= names:
            return overload
    return None


def compile_tree(node: ast.Node, input_name: bool = False) -> Compiled:
    compiler = Compiler()
    if input_name:
        compiler.push(_Static(frozenset({"?"})))
    return compiler.compile(node)
