"""BPMN and FEEL under hostile input: only their documented errors, never anything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zeebe_trio.engine.bpmn import BpmnValidationError, parse_bpmn
from zeebe_trio.engine.feel import FeelError, compile_expression, compile_unary_tests

from .conftest import fuzz_settings

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "bpmn"
SEEDS = sorted(CORPUS.rglob("*.bpmn"))[::25] if CORPUS.exists() else []


def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    """A corpus file with bytes flipped, spans cut out or duplicated, or garbage spliced in."""

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        buffer = bytearray(data)
        for _ in range(draw(st.integers(1, 6))):
            if not buffer:
                break
            at = draw(st.integers(0, len(buffer) - 1))
            kind = draw(st.sampled_from(["flip", "cut", "dup", "splice"]))
            if kind == "flip":
                buffer[at] ^= 1 << draw(st.integers(0, 7))
            elif kind == "cut":
                del buffer[at:at + draw(st.integers(1, 200))]
            elif kind == "dup":
                buffer[at:at] = buffer[at:at + draw(st.integers(1, 400))]
            else:
                buffer[at:at] = draw(st.sampled_from([
                    b"<", b">", b"&", b"]]>", b"\x00", b"\xff\xfe", b'"', b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
                    b"&e;", b"<bpmn:boundaryEvent id='b' attachedToRef='nowhere'/>", b"xmlns:zeebe='x'",
                    b"<zeebe:taskDefinition type='=1/0'/>", b"=", b"\xe2\x80\xae", b"<![CDATA[", b"<?xml version='1.0'?>"]))
        return bytes(buffer)

    return mutate()


@pytest.mark.skipif(not SEEDS, reason="the shared BPMN corpus is not beside the project")
@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_a_mutated_model_deploys_or_is_rejected_with_a_validation_error(seed: Path) -> None:
    @fuzz_settings
    @given(_mutations(seed.read_bytes()))
    def check(data: bytes) -> None:
        try:
            parse_bpmn(seed.name, data)
        except BpmnValidationError as error:
            assert str(error).strip(), "a rejection says why"
            assert len(str(error)) < 64_000, "a rejection stays bounded"

    check()


@fuzz_settings
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_are_rejected_as_a_validation_error(data: bytes) -> None:
    with pytest.raises(BpmnValidationError):
        parse_bpmn("garbage.bpmn", data)


FEEL_PIECES = ["(", ")", "[", "]", "{", "}", ",", ":", ".", "..", "+", "-", "*", "/", "**", "=", "!=", "<", ">",
               "<=", "and", "or", "not", "if", "then", "else", "for", "in", "return", "some", "every", "satisfies",
               "function", "null", "true", "false", '"a"', '"\\u0000"', "1", "0", "-1", "1e400", "9" * 40, "x", "y",
               "string length", "substring", "matches", "replace", "\"(a+)+$\"", "@\"P1D\"", "date", "instance of",
               "between", "?", "`", "'", "\\", "\n", "//", "/*", "*/", "\u0000", "\ud800", "…"]


@fuzz_settings
@given(st.lists(st.sampled_from(FEEL_PIECES), max_size=30).map(" ".join), st.sampled_from([{}, {"x": 1, "y": "a"}]))
def test_feel_raises_only_feel_errors(source: str, variables: dict) -> None:  # type: ignore[type-arg]
    for compile_ in (compile_expression, compile_unary_tests):
        try:
            compiled = compile_(source)
        except FeelError:
            continue
        try:
            compiled.evaluate(variables) if compile_ is compile_expression else compiled.test(1, variables)
        except FeelError:
            pass
