"""CreateProcessInstance's ``runtimeInstructions`` mapped to the creation record (Zeebe's
BrokerCreateProcessInstanceRequest): a ``terminate`` becomes TERMINATE_PROCESS_INSTANCE after its element;
an instruction that sets none is INVALID_ARGUMENT."""

from __future__ import annotations

import pytest
from grpclib import GRPCError, Status

from zeebe_trio.gateway import _mappers
from zeebe_trio.gateway._generated import gateway_protocol as zb


def test_terminate_instructions_become_terminate_process_instance_after_their_elements() -> None:
    instructions = [
        zb.ProcessInstanceCreationRuntimeInstruction(terminate=zb.TerminateProcessInstanceInstruction(after_element_id=e))
        for e in ("a", "b")]
    assert _mappers.runtime_instructions(instructions) == [
        {"type": "TERMINATE_PROCESS_INSTANCE", "afterElementId": "a"},
        {"type": "TERMINATE_PROCESS_INSTANCE", "afterElementId": "b"},
    ]
    assert _mappers.runtime_instructions([]) == []


def test_an_instruction_without_terminate_is_invalid_argument() -> None:
    with pytest.raises(GRPCError) as error:
        _mappers.runtime_instructions([zb.ProcessInstanceCreationRuntimeInstruction()])
    assert error.value.status is Status.INVALID_ARGUMENT
    assert "Unsupported runtime instruction type: INSTRUCTION_NOT_SET" in str(error.value.message)
