"""The syntax of compensation as deployment reads it: a compensation boundary event's handler (the target
of its bpmn:association), which must be an isForCompensation activity, and compensation event
subprocesses, which Zeebe 8.8 refuses with its own reasons."""

from __future__ import annotations

import pytest

from zeebe_trio.engine.bpmn import BpmnValidationError, parse_bpmn
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_compensation as c


def problems(xml: bytes) -> list[str]:
    with pytest.raises(BpmnValidationError) as error:
        parse_bpmn("compensation.bpmn", xml)
    return [problem.text() for problem in error.value.problems]


def test_a_compensation_boundary_event_knows_its_handler_by_its_association() -> None:
    [process] = parse_bpmn("compensation.bpmn", b.process(
        "p", b.start(), b.flow("f1", "start", "charge"), b.service_task("charge", "charge"),
        *c.compensation("charge", c.handler_task("refund", "refund"), boundary_id="on_undo"),
        b.flow("f2", "charge", "end"), b.end()))
    assert process.flow_node("on_undo").compensation_handler_id == "refund"
    assert process.flow_node("refund").is_for_compensation
    assert process.flow_node("charge").compensation_handler_id is None


def test_an_association_to_an_activity_that_is_no_compensation_handler_is_refused() -> None:
    boundary, _handler, association = c.compensation("charge", b.service_task("audit", "audit"))
    found = problems(b.process(
        "p", b.start(), b.flow("f1", "start", "charge"), b.service_task("charge", "charge"), boundary,
        b.service_task("audit", "audit"), association, b.flow("f2", "charge", "audit"),
        b.flow("f3", "audit", "end"), b.end()))
    assert found == [
        "process 'p': compensation boundary event 'charge_compensation': the compensation boundary event must be "
        'connected to a compensation handler (an activity with isForCompensation="true") by its association; '
        "point the association's targetRef at one"]


def test_a_compensation_event_subprocess_is_refused_with_zeebes_reason() -> None:
    sub = b.sub_process("on_compensation", b.start("comp_start", c.compensate_definition()),
                        b.flow("e1", "comp_start", "e_end"), b.end("e_end"), triggered_by_event=True)
    found = problems(b.process(
        "p", b.start(), b.flow("f0", "start", "sub"),
        b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "sub_end"), b.end("sub_end"), sub),
        b.flow("f1", "sub", "end"), b.end()))
    assert found == [
        "process 'p': compensation start event 'comp_start': start events in event subprocesses must be one of: "
        "message, timer, error, signal or escalation; compensation event subprocesses are not supported by Zeebe,"
        " use a compensation boundary event and handler"]
