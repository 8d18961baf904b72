"""The public API the engine codes against."""

from __future__ import annotations

import zeebe_trio.engine.feel as feel
from zeebe_trio.engine.feel import FeelEvaluationError, FeelSyntaxError, compile_expression


def test_every_public_name_is_exported_once() -> None:
    assert len(feel.__all__) == len(set(feel.__all__))
    for name in feel.__all__:
        assert hasattr(feel, name)
    assert issubclass(FeelSyntaxError, feel.FeelError)
    assert issubclass(FeelEvaluationError, feel.FeelError)


def test_expression_keeps_its_source() -> None:
    assert compile_expression("a + 1").source == "a + 1"


def test_variable_names_are_the_top_level_names_read() -> None:
    cases = {
        "total > 100": {"total"},
        "order.customer.address.city": {"order"},
        "upper case(name) + \"!\"": {"name"},
        "{a: x, b: a + 1}": {"x"},
        "for i in items return i.price * rate": {"items", "rate"},
        "some x in xs satisfies x > y": {"xs", "y"},
        "(function(a) a + b)(c)": {"b", "c"},
        "items[item.price > min]": {"items", "min"},
        "1 + 2": set(),
        "now()": set(),
        "myFunction(1)": {"myFunction"},
        "`first name` + last name": {"first name", "last name"},
    }
    for source, names in cases.items():
        assert compile_expression(source).variable_names == names, source


def test_compile_once_evaluate_many_times_with_different_variables() -> None:
    expression = compile_expression("if x > 10 then x * 2 else -x")
    assert [expression.evaluate({"x": v}) for v in (1, 11, 20)] == [-1, 22, 40]


def test_variables_may_be_any_mapping() -> None:
    from types import MappingProxyType

    assert compile_expression("a.b").evaluate(MappingProxyType({"a": {"b": 1}})) == 1


def test_evaluation_does_not_mutate_variables() -> None:
    variables = {"items": [{"p": 1.5}, {"p": 3}], "ctx": {"a": 1}}
    snapshot = repr(variables)
    compile_expression("{x: items[p > 1], y: context put(ctx, \"b\", 2), z: sort(items.p)}").evaluate(variables)
    assert repr(variables) == snapshot


def test_a_function_defined_in_a_loop_keeps_its_own_binding() -> None:
    source = "for x in [1, 2, 3] return function(y) x + y"
    functions = compile_expression(source).evaluate({})
    assert [f.call([10]) for f in functions] == [11, 12, 13]
