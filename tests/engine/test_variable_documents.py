"""VARIABLE_DOCUMENT UPDATE (SetVariables): which records it writes for which scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import ValueType, VariableDocumentIntent, VariableIntent
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_tasks import user_task


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def test_setting_variables_on_a_camunda_user_task_goes_through_updating(harness: EngineHarness) -> None:
    # VariableDocumentUpdateProcessor: a Camunda user task's scope writes UPDATING before the variables
    harness.deploy("form.bpmn", b.process("form", b.start(), b.flow("to_task", "start", "task"),
                                          user_task("task", zeebe_user_task=True), b.flow("to_end", "task", "end"),
                                          b.end()))
    pik = harness.create_instance("form")
    task = harness.records().process_instance_records(pik).with_element_id("task")[0]
    harness.set_variables(task.key, {"foo": "bar"}, local=True)

    update = harness.records().skip_until(lambda r: r.value_type is ValueType.VARIABLE_DOCUMENT).filter(
        lambda r: r.value_type in (ValueType.VARIABLE_DOCUMENT, ValueType.VARIABLE))
    assert update.types_and_intents() == [
        (ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATE),
        (ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATING),
        (ValueType.VARIABLE, VariableIntent.CREATED),
        (ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATED)]
