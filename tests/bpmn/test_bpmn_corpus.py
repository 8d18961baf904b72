"""parse_bpmn over the real-world BPMN corpus and over garbage: it deploys or explains, never crashes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zeebe_trio.engine.bpmn import BpmnValidationError, ExecutableProcess, FlowNode, SequenceFlow, parse_bpmn

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "bpmn"
CORPUS_FILES = sorted(CORPUS.rglob("*.bpmn")) if CORPUS.is_dir() else []

needs_corpus = pytest.mark.skipif(
    not CORPUS_FILES, reason=f"the BPMN corpus is not present at {CORPUS} (it lives outside the repository)"
)


def resource_name(path: Path) -> str:
    return str(path.relative_to(CORPUS))


def parse_or_explain(name: str, data: bytes) -> list[ExecutableProcess] | BpmnValidationError:
    try:
        return parse_bpmn(name, data)
    except BpmnValidationError as error:
        return error


def check_consistent(process: ExecutableProcess) -> None:
    """Every reference in a deployed process resolves inside it."""
    # a process that starts only by a timer (or a message) has no none start event
    starts = process.start_events()
    assert starts and all(isinstance(start, FlowNode) for start in starts)
    if process.start_event_id is not None:
        assert isinstance(process.flow_node(process.start_event_id), FlowNode)
    for element in process.elements.values():
        if isinstance(element, SequenceFlow):
            assert element.id in process.flow_node(element.source_ref).outgoing
            assert element.id in process.flow_node(element.target_ref).incoming
        else:
            for flow_id in element.incoming + element.outgoing:
                process.sequence_flow(flow_id)
            if element.default_flow is not None:
                assert element.default_flow in element.outgoing
            if element.is_job_worker:
                assert element.job_type and element.job_retries


@needs_corpus
def test_the_corpus_is_there():
    assert len(CORPUS_FILES) > 300


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=resource_name)
def test_every_corpus_file_deploys_or_is_rejected_with_a_message_naming_it(path):
    name = resource_name(path)
    result = parse_or_explain(name, path.read_bytes())
    if isinstance(result, BpmnValidationError):
        assert result.problems
        for line in str(result).splitlines():
            assert line.startswith(f"'{name}'")
    else:
        assert result, "a successful parse returns at least one process"
        for process in result:
            assert process.resource_name == name
            check_consistent(process)


@needs_corpus
def test_known_good_corpus_files_deploy():
    # Plain start -> service task -> end models from Zeebe's own client test data.
    for name in ("camunda-zeebe-apache/simple-process.bpmn", "camunda-zeebe-apache/service_task.bpmn"):
        path = CORPUS / name
        if path.exists():
            assert parse_bpmn(name, path.read_bytes())


@needs_corpus
def test_truncated_corpus_files_are_rejected_cleanly():
    rng = random.Random(20240611)
    for path in rng.sample(CORPUS_FILES, min(60, len(CORPUS_FILES))):
        data = path.read_bytes()
        for cut in {0, 1, len(data) // 3, len(data) // 2, len(data) - 20, rng.randrange(len(data))}:
            result = parse_or_explain("cut.bpmn", data[:cut])
            if isinstance(result, BpmnValidationError):
                assert str(result).startswith("'cut.bpmn'")


@needs_corpus
def test_corrupted_corpus_files_are_rejected_cleanly():
    rng = random.Random(7)
    for path in rng.sample(CORPUS_FILES, min(60, len(CORPUS_FILES))):
        data = bytearray(path.read_bytes())
        for _ in range(8):
            data[rng.randrange(len(data))] = rng.randrange(256)
        parse_or_explain("corrupt.bpmn", bytes(data))


def test_random_bytes_are_rejected():
    rng = random.Random(1)
    for size in (1, 2, 10, 100, 10_000):
        data = bytes(rng.randrange(256) for _ in range(size))
        assert isinstance(parse_or_explain("random.bin", data), BpmnValidationError)


SMALL_VALID = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d">
  <bpmn:process id="order-process" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="charge"><bpmn:extensionElements>
      <zeebe:taskDefinition type="charge" retries="5"/>
      <zeebe:ioMapping><zeebe:input source="=order.total" target="total"/></zeebe:ioMapping>
    </bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:exclusiveGateway id="gw" default="f3"/>
    <bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="charge"/>
    <bpmn:sequenceFlow id="f2" sourceRef="charge" targetRef="gw"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="end"/>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="end2">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">= total &gt; 5</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>
"""


def test_the_fuzz_seed_is_valid():
    assert parse_bpmn("seed.bpmn", SMALL_VALID)[0].bpmn_process_id == "order-process"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes_only_ever_raise_bpmn_validation_error(data):
    parse_or_explain("fuzz.bpmn", data)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(SMALL_VALID)))
def test_every_truncation_of_a_valid_file_deploys_or_is_rejected(cut):
    result = parse_or_explain("fuzz.bpmn", SMALL_VALID[:cut])
    if not isinstance(result, BpmnValidationError):
        check_consistent(result[0])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(SMALL_VALID) - 1),
            st.integers(min_value=0, max_value=len(SMALL_VALID)),
            st.binary(max_size=20),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_edited_valid_files_deploy_or_are_rejected(edits):
    data = SMALL_VALID
    for start, end, replacement in edits:
        start, end = sorted((start % len(data) if data else 0, end % (len(data) + 1)))
        data = data[:start] + replacement + data[end:]
    result = parse_or_explain("fuzz.bpmn", data)
    if not isinstance(result, BpmnValidationError):
        for process in result:
            check_consistent(process)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b'<bpmn:startEvent id="s"/>',
                b'<bpmn:endEvent id="e"/>',
                b'<bpmn:task id="t"/>',
                b'<bpmn:exclusiveGateway id="g" default="f2"/>',
                b'<bpmn:parallelGateway id="p"/>',
                b'<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g"/>',
                b'<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e"/>',
                b'<bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="t"><bpmn:conditionExpression>=x'
                b"</bpmn:conditionExpression></bpmn:sequenceFlow>",
                b'<bpmn:sequenceFlow id="f4" sourceRef="t" targetRef="p"/>',
                b'<bpmn:boundaryEvent id="b" attachedToRef="t"/>',
                b'<bpmn:serviceTask id="st"><bpmn:extensionElements><zeebe:taskDefinition type="a"/>'
                b"</bpmn:extensionElements></bpmn:serviceTask>",
                b'<bpmn:serviceTask id="st2"/>',
            ]
        ),
        max_size=12,
    )
)
def test_random_element_soups_deploy_consistently_or_are_rejected(parts):
    data = (
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        b'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"><bpmn:process id="p0" isExecutable="true">'
        + b"".join(parts)
        + b"</bpmn:process></bpmn:definitions>"
    )
    result = parse_or_explain("soup.bpmn", data)
    if not isinstance(result, BpmnValidationError):
        check_consistent(result[0])
