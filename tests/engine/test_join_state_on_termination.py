"""A parallel join inside a subprocess that is terminated before all its flows arrived leaves no count
of taken flows behind (Zeebe removes an element instance's taken sequence flows with the instance)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_gateways_events as g

SUB = (
    b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "split"), g.parallel_gateway("split"),
                  b.flow("direct", "split", "merge"), b.flow("s2", "split", "task"), b.service_task("task", "work"),
                  b.flow("s3", "task", "merge"), g.parallel_gateway("merge"), b.flow("s4", "merge", "sub_end"),
                  b.end("sub_end")),
    b.flow("f2", "sub", "end"), b.end())
HALF_JOINED = b.process("joining", b.start(), b.flow("f1", "start", "sub"), *SUB)


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def test_canceling_an_instance_whose_subprocess_join_is_half_taken_leaves_no_taken_flows(
        harness: EngineHarness) -> None:
    harness.deploy("joining.bpmn", HALF_JOINED)
    pik = harness.create_instance("joining")
    assert harness.dump_state()["taken_flows"]  # the direct flow waits at the join
    harness.cancel(pik)
    assert not harness.dump_state()["taken_flows"]


def test_an_error_that_terminates_a_subprocess_with_a_half_taken_join_leaves_no_taken_flows(
        harness: EngineHarness) -> None:
    model = b.process("joining", b.start(), b.flow("f1", "start", "sub"), *SUB,
                      b.boundary("failed", "sub", b.error_definition()), b.flow("f3", "failed", "handled"),
                      b.end("handled"))
    harness.deploy("joining.bpmn", model)
    pik = harness.create_instance("joining")
    [job] = harness.activate_jobs("work")
    harness.throw_error(job, "broken")
    assert harness.records().process_instance_records(pik).with_element_id("handled")
    assert not harness.dump_state()["taken_flows"]
