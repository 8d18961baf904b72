"""A hand-written tokenizer and Pratt parser for FEEL expressions and unary tests.

Every failure is a FeelSyntaxError naming what was expected and where: nothing else escapes, even
for arbitrary input (a Hypothesis test holds us to that). Nesting is bounded so hostile input fails
cleanly instead of exhausting the Python stack.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from . import _ast as ast
from ._errors import FeelSyntaxError
from ._values import DECIMAL_CONTEXT, normalize_int

__all__ = ["parse_expression", "parse_unary_tests", "MAX_NESTING"]

MAX_NESTING = 64
MAX_SOURCE_LENGTH = 1_000_000

KEYWORDS = frozenset(
    "and or if then else for in return some every satisfies between instance of function true false null".split()
)

# Built-in function names that contain a keyword; they are recognised only right before '('.
_KEYWORD_FUNCTION_NAMES = frozenset(
    (
        "date and time", "years and months duration", "get or else", "last day of month",
        "day of year", "day of week", "month of year", "week of year", "index of",
    )
)
_MAX_FUNCTION_NAME_WORDS = 4

_COMPARISONS = frozenset(("=", "!=", "<", "<=", ">", ">="))
_OPERATORS = ("**", "..", "<=", ">=", "!=", "->", "+", "-", "*", "/", "=", "<", ">", "(", ")", "[", "]",
              "{", "}", ",", ":", ".")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "'": "'", "\\": "\\", "b": "\b", "f": "\f", "/": "/"}

# binding powers
_BP_OR = 10
_BP_AND = 20
_BP_COMPARE = 30
_BP_ADD = 40
_BP_MUL = 50
_BP_POW = 60
_BP_PREFIX = 70
_BP_POSTFIX = 80


class Token:
    __slots__ = ("kind", "text", "pos", "value")

    def __init__(self, kind: str, text: str, pos: int, value: object = None) -> None:
        self.kind = kind  # num str name kw temporal op eof
        self.text = text
        self.pos = pos
        self.value = value

    def describe(self) -> str:
        if self.kind == "eof":
            return "end of input"
        return f"'{self.text}'"


def _is_name_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_" or ch == "?" or ch == "$"


def _is_name_part(ch: str) -> bool:
    return ch.isalnum() or ch == "_" or ch == "?" or ch == "$"


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    n = len(source)
    i = 0
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        if source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                raise FeelSyntaxError("unterminated comment", source, i)
            i = end + 2
            continue
        start = i
        previous = tokens[-1] if tokens else None
        value_before = previous is not None and (
            previous.kind in ("num", "str", "name", "temporal") or previous.text in (")", "]", "}")
        )
        if ch.isdigit() or (
            ch == "." and i + 1 < n and source[i + 1].isdigit() and not value_before
        ):
            while i < n and source[i].isdigit():
                i += 1
            if i + 1 < n and source[i] == "." and source[i + 1].isdigit():
                i += 1
                while i < n and source[i].isdigit():
                    i += 1
            text = source[start:i]
            if i < n and _is_name_start(source[i]) and source[i] != "?":
                raise FeelSyntaxError(f"unexpected '{source[i]}' after number {text}", source, i)
            tokens.append(Token("num", text, start, _number(text, source, start)))
            continue
        if ch == '"' or (ch == "@" and i + 1 < n and source[i + 1] == '"'):
            is_temporal = ch == "@"
            i += 2 if is_temporal else 1
            text, i = _read_string(source, i, start)
            tokens.append(Token("temporal" if is_temporal else "str", source[start:i], start, text))
            continue
        if ch == "`":
            end = source.find("`", i + 1)
            if end < 0:
                raise FeelSyntaxError("expected '`' to close the name", source, n)
            name = source[i + 1:end]
            if not name:
                raise FeelSyntaxError("expected a name between '`'", source, i)
            tokens.append(Token("name", source[start:end + 1], start, name))
            i = end + 1
            continue
        if _is_name_start(ch):
            while i < n and _is_name_part(source[i]):
                i += 1
            text = source[start:i]
            tokens.append(Token("kw" if text in KEYWORDS else "name", text, start, text))
            continue
        for op in _OPERATORS:
            if source.startswith(op, i):
                tokens.append(Token("op", op, start))
                i += len(op)
                break
        else:
            raise FeelSyntaxError(f"unexpected character '{ch}'", source, i)
    tokens.append(Token("eof", "", n))
    return tokens


def _number(text: str, source: str, pos: int) -> int | Decimal:
    try:
        if "." not in text and len(text) < 35:
            return normalize_int(int(text))
        return DECIMAL_CONTEXT.plus(Decimal(text)) if len(text) > 34 else Decimal(text)
    except (ValueError, InvalidOperation, ArithmeticError):
        raise FeelSyntaxError(f"number {text[:20]} out of range", source, pos) from None


def _read_string(source: str, i: int, start: int) -> tuple[str, int]:
    parts: list[str] = []
    n = len(source)
    while True:
        if i >= n:
            raise FeelSyntaxError("expected '\"' to close the string", source, n)
        ch = source[i]
        if ch == '"':
            return "".join(parts), i + 1
        if ch == "\\":
            if i + 1 >= n:
                raise FeelSyntaxError("expected '\"' to close the string", source, n)
            esc = source[i + 1]
            if esc == "u":
                digits = source[i + 2:i + 6]
                if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                    raise FeelSyntaxError("expected four hex digits after \\u", source, i)
                code = int(digits, 16)
                # join UTF-16 surrogate pairs as Java strings hold them
                if 0xD800 <= code < 0xDC00 and source.startswith("\\u", i + 6):
                    low_digits = source[i + 8:i + 12]
                    if len(low_digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in low_digits):
                        low = int(low_digits, 16)
                        if 0xDC00 <= low < 0xE000:
                            parts.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                            i += 12
                            continue
                parts.append(chr(code) if not 0xD800 <= code < 0xE000 else "\ufffd")
                i += 6
                continue
            parts.append(_ESCAPES.get(esc, "\\" + esc))
            i += 2
            continue
        parts.append(ch)
        i += 1


class _Parser:
    def __init__(self, source: str) -> None:
        if len(source) > MAX_SOURCE_LENGTH:
            raise FeelSyntaxError(
                f"expression is longer than {MAX_SOURCE_LENGTH} characters", source[:100], 0
            )
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.depth = 0
        self.in_range_end = False  # `]1..10[` : a '[' after the end closes the range

    # --- token helpers ---

    @property
    def tok(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def at(self, text: str) -> bool:
        token = self.tok
        return token.text == text and token.kind in ("op", "kw")

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.advance()
            return True
        return False

    def error(self, message: str, token: Token | None = None) -> FeelSyntaxError:
        token = token or self.tok
        return FeelSyntaxError(message, self.source, token.pos)

    def expect(self, text: str) -> Token:
        if not self.at(text):
            found = "" if self.tok.kind == "eof" else f" but found {self.tok.describe()}"
            raise self.error(f"expected '{text}'{found}")
        return self.advance()

    def expect_end(self) -> None:
        if self.tok.kind != "eof":
            raise self.error(f"unexpected {self.tok.describe()}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"expression is nested more than {MAX_NESTING} levels deep")

    # --- expressions ---

    def expression(self, min_bp: int = 0) -> ast.Node:
        self.enter()
        try:
            left = self.prefix()
            while True:
                left2 = self.infix(left, min_bp)
                if left2 is None:
                    return left
                left = left2
        finally:
            self.depth -= 1

    def infix(self, left: ast.Node, min_bp: int) -> ast.Node | None:
        token = self.tok
        text = token.text
        if token.kind == "op":
            if text in (".", "[", "(") and _BP_POSTFIX >= min_bp:
                if text == "[" and self.in_range_end and (
                    self.peek().kind == "eof" or self.peek().text in (",", ")", "]")
                    or self.peek().text in ("and", "or", "then", "else", "return", "satisfies")
                ):
                    return None
                return self.postfix(left)
            if text in ("+", "-") and _BP_ADD > min_bp:
                self.advance()
                return ast.Binary(token.pos, text, left, self.expression(_BP_ADD + 1))
            if text in ("*", "/") and _BP_MUL > min_bp:
                self.advance()
                return ast.Binary(token.pos, text, left, self.expression(_BP_MUL + 1))
            if text == "**" and _BP_POW > min_bp:
                self.advance()
                return ast.Binary(token.pos, text, left, self.expression(_BP_POW + 1))
            if text in _COMPARISONS and _BP_COMPARE > min_bp:
                self.advance()
                return ast.Binary(token.pos, text, left, self.expression(_BP_COMPARE + 1))
            return None
        if token.kind != "kw":
            return None
        if text == "or" and _BP_OR > min_bp:
            self.advance()
            return ast.Or(token.pos, left, self.expression(_BP_OR + 1))
        if text == "and" and _BP_AND > min_bp:
            self.advance()
            return ast.And(token.pos, left, self.expression(_BP_AND + 1))
        if _BP_COMPARE > min_bp:
            if text == "between":
                self.advance()
                low = self.expression(_BP_COMPARE + 1)
                self.expect("and")
                high = self.expression(_BP_COMPARE + 1)
                return ast.Between(token.pos, left, low, high)
            if text == "in":
                self.advance()
                return ast.In(token.pos, left, self.in_tests())
            if text == "instance":
                self.advance()
                self.expect("of")
                return ast.InstanceOf(token.pos, left, self.type_name())
        return None

    def postfix(self, left: ast.Node) -> ast.Node:
        token = self.advance()
        if token.text == ".":
            return ast.Path(token.pos, left, self.member_name())
        if token.text == "[":
            self.enter()
            try:
                predicate = self.expression()
            finally:
                self.depth -= 1
            self.expect("]")
            return ast.Filter(token.pos, left, predicate)
        return self.call_arguments(token, left)

    def member_name(self) -> str:
        token = self.tok
        if token.kind not in ("name", "kw"):
            raise self.error(f"expected a name after '.' but found {token.describe()}")
        self.advance()
        words = [str(token.value)]
        while self.tok.kind == "name" and not self.tok.text.startswith("`"):
            words.append(str(self.advance().value))
        return " ".join(words)

    def call_arguments(self, open_token: Token, callee: ast.Node) -> ast.Node:
        self.enter()
        try:
            if self.accept(")"):
                return ast.Call(open_token.pos, callee, [])
            if self.is_named_argument():
                named: dict[str, ast.Node] = {}
                while True:
                    name_token = self.tok
                    name = self.argument_name()
                    self.expect(":")
                    if name in named:
                        raise self.error(f"argument '{name}' is given twice", name_token)
                    named[name] = self.expression()
                    if not self.accept(","):
                        break
                self.expect(")")
                return ast.Call(open_token.pos, callee, [], named)
            args = [self.expression()]
            while self.accept(","):
                args.append(self.expression())
            self.expect(")")
            return ast.Call(open_token.pos, callee, args)
        finally:
            self.depth -= 1

    def is_named_argument(self) -> bool:
        offset = 0
        while self.peek(offset).kind == "name" or (self.peek(offset).kind == "kw" and offset > 0):
            offset += 1
        return offset > 0 and self.peek(offset).text == ":" and self.peek(offset).kind == "op"

    def plain_name(self) -> str:
        """A variable name being bound: name tokens only (so `x in ...` stops at `in`)."""
        words = [str(self.advance().value)]
        while self.tok.kind == "name" and not self.tok.text.startswith("`"):
            words.append(str(self.advance().value))
        return " ".join(words)

    def argument_name(self) -> str:
        words = []
        while self.tok.kind in ("name", "kw") and not self.at(":"):
            words.append(str(self.advance().value))
        return " ".join(words)

    def prefix(self) -> ast.Node:
        token = self.tok
        kind = token.kind
        if kind == "num":
            self.advance()
            return ast.Literal(token.pos, token.value)
        if kind == "str":
            self.advance()
            return ast.Literal(token.pos, token.value)
        if kind == "temporal":
            self.advance()
            return ast.TemporalLiteral(token.pos, str(token.value))
        if kind == "name":
            return self.name()
        if kind == "kw":
            text = token.text
            if text in ("true", "false"):
                self.advance()
                return ast.Literal(token.pos, text == "true")
            if text == "null":
                self.advance()
                return ast.Literal(token.pos, None)
            if text == "if":
                return self.if_expression()
            if text == "for":
                return self.for_expression()
            if text in ("some", "every"):
                return self.quantified()
            if text == "function":
                return self.function_definition()
            if text in ("and", "or") and self.peek().text == "(":  # and() / or(): all() / any()
                self.advance()
                return ast.Name(token.pos, text)
            raise self.error(f"unexpected keyword '{text}'")
        if kind == "op":
            text = token.text
            if text == "-":
                self.advance()
                return ast.Negation(token.pos, self.expression(_BP_PREFIX))
            if text == "(":
                return self.parenthesized()
            if text == "[":
                return self.list_or_range()
            if text == "]":
                self.advance()
                return self.range_rest(token, False, self.expression(_BP_COMPARE + 1))
            if text == "{":
                return self.context()
            raise self.error(f"unexpected '{text}'")
        raise self.error("unexpected end of input" if kind == "eof" else f"unexpected {token.describe()}")

    def name(self) -> ast.Node:
        token = self.tok
        if not token.text.startswith("`"):
            # a built-in function whose name contains a keyword: `date and time(...)`
            for count in range(_MAX_FUNCTION_NAME_WORDS, 1, -1):
                words = [self.peek(k) for k in range(count)]
                if all(w.kind in ("name", "kw") for w in words) and self.peek(count).text == "(":
                    joined = " ".join(w.text for w in words)
                    if joined in _KEYWORD_FUNCTION_NAMES:
                        self.index += count
                        return ast.Name(token.pos, joined)
        self.advance()
        parts = [str(token.value)]
        # names may contain spaces: adjacent names form one (`order total`, `upper case`)
        # and may contain `of` between words (`Years of Service`): `of` is otherwise only the second
        # word of `instance of`, whose `instance` is a keyword that ends a name
        while not token.text.startswith("`"):
            if self.tok.kind == "name" and not self.tok.text.startswith("`"):
                parts.append(str(self.advance().value))
            elif (self.tok.kind == "kw" and self.tok.text == "of" and self.peek(1).kind == "name"
                  and not self.peek(1).text.startswith("`")):
                self.advance()
                parts += ["of", str(self.advance().value)]
            else:
                break
        return ast.Name(token.pos, " ".join(parts))

    def parenthesized(self) -> ast.Node:
        open_token = self.advance()
        self.enter()
        try:
            inner = self.expression()
            if self.at(".."):
                return self.range_rest(open_token, False, inner)
            self.expect(")")
            return inner
        finally:
            self.depth -= 1

    def list_or_range(self) -> ast.Node:
        open_token = self.advance()
        self.enter()
        try:
            if self.accept("]"):
                return ast.ListLiteral(open_token.pos, [])
            first = self.expression()
            if self.at(".."):
                return self.range_rest(open_token, True, first)
            items = [first]
            while self.accept(","):
                items.append(self.expression())
            self.expect("]")
            return ast.ListLiteral(open_token.pos, items)
        finally:
            self.depth -= 1

    def range_rest(self, open_token: Token, start_included: bool, start: ast.Node) -> ast.Node:
        self.expect("..")
        saved, self.in_range_end = self.in_range_end, True
        try:
            end = self.expression(_BP_COMPARE + 1)
        finally:
            self.in_range_end = saved
        closing = self.tok
        if closing.kind == "op" and closing.text in ("]", ")", "["):
            self.advance()
            return ast.RangeLiteral(open_token.pos, start, end, start_included, closing.text == "]")
        raise self.error(f"expected ']' or ')' to close the range but found {closing.describe()}")

    def context(self) -> ast.Node:
        open_token = self.advance()
        self.enter()
        try:
            entries: list[tuple[str, ast.Node]] = []
            seen: set[str] = set()
            if self.accept("}"):
                return ast.ContextLiteral(open_token.pos, entries)
            while True:
                key_token = self.tok
                if key_token.kind == "str":
                    self.advance()
                    key = str(key_token.value)
                elif key_token.kind in ("name", "kw"):
                    key = self.argument_name()
                else:
                    raise self.error(f"expected a context key but found {key_token.describe()}")
                if key in seen:
                    raise self.error(f"context key '{key}' is defined twice", key_token)
                seen.add(key)
                self.expect(":")
                entries.append((key, self.expression()))
                if not self.accept(","):
                    break
            self.expect("}")
            return ast.ContextLiteral(open_token.pos, entries)
        finally:
            self.depth -= 1

    def if_expression(self) -> ast.Node:
        token = self.advance()
        condition = self.expression()
        self.expect("then")
        then = self.expression()
        self.expect("else")
        return ast.If(token.pos, condition, then, self.expression())

    def iterations(self) -> list[ast.Iteration]:
        iterations = []
        while True:
            token = self.tok
            if token.kind != "name":
                raise self.error(f"expected a variable name but found {token.describe()}")
            name = self.plain_name()
            self.expect("in")
            source = self.expression()
            range_end = None
            if self.accept(".."):
                range_end = self.expression()
            iterations.append(ast.Iteration(name, source, range_end))
            if not self.accept(","):
                return iterations

    def for_expression(self) -> ast.Node:
        token = self.advance()
        iterations = self.iterations()
        self.expect("return")
        return ast.For(token.pos, iterations, self.expression())

    def quantified(self) -> ast.Node:
        token = self.advance()
        iterations = self.iterations()
        self.expect("satisfies")
        return ast.Quantified(token.pos, token.text == "every", iterations, self.expression())

    def function_definition(self) -> ast.Node:
        token = self.advance()
        self.expect("(")
        params: list[str] = []
        if not self.accept(")"):
            while True:
                if self.tok.kind != "name":
                    raise self.error(f"expected a parameter name but found {self.tok.describe()}")
                param = self.plain_name()
                if self.accept(":"):
                    self.type_name()  # a typed parameter: the type is not checked
                if param in params:
                    raise self.error(f"parameter '{param}' is defined twice")
                params.append(param)
                if not self.accept(","):
                    break
            self.expect(")")
        return ast.FunctionDefinition(token.pos, params, self.expression())

    def type_name(self) -> str:
        token = self.tok
        if token.kind not in ("name", "kw"):
            raise self.error(f"expected a type name but found {token.describe()}")
        words = [str(self.advance().value)]
        while True:
            current = self.tok
            if current.kind == "name" and not current.text.startswith("`"):
                words.append(str(self.advance().value))
            elif current.text == "and" and self.peek().kind == "name" and " ".join(words) in (
                "date", "days", "years",
            ):
                words.append(self.advance().text)
            else:
                break
        text = " ".join(words)
        if self.at("<"):  # generic: list<number>, context<a: number>
            depth = 0
            start = self.tok.pos
            while True:
                current = self.advance()
                if current.kind == "eof":
                    raise self.error("expected '>' to close the type")
                if current.text == "<":
                    depth += 1
                elif current.text == ">":
                    depth -= 1
                    if depth == 0:
                        break
                elif current.text == ">=":  # `list<number>=` cannot be meant; still close it
                    raise self.error("expected '>' to close the type", current)
            text += self.source[start:current.pos + 1]
        return text

    # --- unary tests ---

    def in_tests(self) -> list[ast.Node]:
        if self.at("("):
            open_token = self.advance()
            self.enter()
            try:
                first = self.positive_test()
                if self.at("..") and isinstance(first, ast.TestExpression):
                    return [ast.TestExpression(open_token.pos, self.range_rest(open_token, False, first.expression))]
                tests = [first]
                while self.accept(","):
                    tests.append(self.positive_test())
                self.expect(")")
                return tests
            finally:
                self.depth -= 1
        return [self.positive_test(_BP_COMPARE + 1)]

    def positive_test(self, min_bp: int = 0) -> ast.Node:
        token = self.tok
        if token.kind == "op" and token.text in _COMPARISONS:
            self.advance()
            return ast.TestCompare(token.pos, token.text, self.expression(_BP_COMPARE + 1))
        return ast.TestExpression(token.pos, self.expression(min_bp))

    def unary_tests(self) -> ast.Node:
        token = self.tok
        if token.text == "-" and self.peek().kind == "eof":
            self.advance()
            return ast.TestAny(token.pos)
        if token.kind == "name" and token.text == "not" and self.peek().text == "(":
            # `not(...)` negates the tests only when it spans the whole text
            saved = self.index
            self.advance()
            self.advance()
            try:
                tests = [self.positive_test()]
                while self.accept(","):
                    tests.append(self.positive_test())
                self.expect(")")
                if self.tok.kind == "eof":
                    return ast.TestNot(token.pos, tests)
            except FeelSyntaxError:
                pass
            self.index = saved
        tests = [self.positive_test()]
        while self.accept(","):
            tests.append(self.positive_test())
        self.expect_end()
        if len(tests) == 1:
            return tests[0]
        return ast.In(token.pos, ast.Name(token.pos, "?"), tests)


MAX_TREE_DEPTH = 100


def _chain_kind(node: ast.Node) -> object:
    """Nodes the compiler evaluates as one flat loop along their left operand."""
    if isinstance(node, ast.Binary) and node.op in ("+", "-", "*", "/", "**"):
        return "arithmetic"
    if isinstance(node, (ast.And, ast.Or, ast.Path)):
        return type(node)
    return None


def _check_depth(node: ast.Node, source: str) -> None:
    """Rejects trees the compiler and evaluator would need too deep a Python stack for.

    The parser bounds bracket nesting; this bounds what the infix loop can build without
    recursion (``a[1][1][1]...``, ``a = b = c ...``). Left-leaning chains of one operator count as
    one level because they are compiled into a loop.
    """
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise FeelSyntaxError(
                f"expression is nested more than {MAX_TREE_DEPTH} levels deep", source, current.pos
            )
        kind = _chain_kind(current)
        for child in ast.children(current):
            same_chain = kind is not None and child is getattr(current, "left", getattr(current, "base", None)) \
                and _chain_kind(child) == kind
            stack.append((child, depth if same_chain else depth + 1))


def parse_expression(source: str) -> ast.Node:
    parser = _Parser(source)
    if parser.tok.kind == "eof":
        raise parser.error("expected an expression but found end of input")
    node = parser.expression()
    parser.expect_end()
    _check_depth(node, source)
    return node


def parse_unary_tests(source: str) -> ast.Node:
    parser = _Parser(source)
    if parser.tok.kind == "eof":
        raise parser.error("expected unary tests but found end of input")
    node = parser.unary_tests()
    _check_depth(node, source)
    return node
