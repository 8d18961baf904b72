"""Zeebe's ContinuouslyReplayTest, here: a processing engine and a replaying engine follow the same
log; after every command the replayed state equals the processed state (Hypothesis drives the commands).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from zeebe_trio.protocol import (
    DeploymentIntent,
    IncidentIntent,
    Intent,
    JobBatchIntent,
    JobIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    Record,
    RecordType,
    ValueType,
    VariableDocumentIntent,
)
from zeebe_trio.testing._engine_harness import _Side  # one engine over its own state store

GATEWAYS = (Path(__file__).parent.parent / "broker" / "gateways.bpmn").read_bytes()


class ContinuousReplay(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._tmp = tempfile.TemporaryDirectory()
        root = Path(self._tmp.name)
        self.processing = _Side(root / "processing")
        self.replaying = _Side(root / "replaying")
        self.position = 1
        self.now = 1_700_000_000_000
        self.instances: list[int] = []
        self.jobs: list[int] = []
        self.incidents: list[int] = []
        self._command(ValueType.DEPLOYMENT, DeploymentIntent.CREATE,
                      {"resources": [{"resourceName": "gateways.bpmn", "resource": GATEWAYS}]})

    def teardown(self) -> None:
        self.processing.store.close()
        self.replaying.store.close()
        self._tmp.cleanup()

    def _command(self, value_type: ValueType, intent: Intent, value: dict[str, Any], key: int = -1) -> list[Record]:
        command = Record(record_type=RecordType.COMMAND, value_type=value_type, intent=intent, value=value, key=key,
                         position=self.position, timestamp=self.now, partition_id=1)
        self.position += 1
        side = self.processing
        with side.store.transaction() as txn:
            side.state.bind(txn)
            batch = side.engine.process(command, self.now, self.position)
        self.position += len(batch.records)
        # The replaying engine sees exactly what the log holds: the command and its batch.
        logged = [command, *batch.records]
        with self.replaying.store.transaction() as txn:
            self.replaying.state.bind(txn)
            last_processed = command.position
            self.replaying.engine.replay([r for r in logged if r.source_position >= 0],
                                         last_processed, logged[-1].position)
        for record in batch.records:
            self._learn(record)
        return batch.records

    def _learn(self, record: Record) -> None:
        if record.record_type is not RecordType.EVENT:
            return
        if record.value_type is ValueType.PROCESS_INSTANCE_CREATION:
            self.instances.append(record.key)
        elif record.value_type is ValueType.JOB and record.intent is JobIntent.CREATED:
            self.jobs.append(record.key)
        elif record.value_type is ValueType.INCIDENT and record.intent is IncidentIntent.CREATED:
            self.incidents.append(record.key)

    @rule(amount=st.sampled_from([1, 50, 150, 1000]), name=st.text(max_size=5))
    def create(self, amount: int, name: str) -> None:
        self._command(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                      {"bpmnProcessId": "gateways", "version": -1, "variables": {"amount": amount, "name": name}})

    @rule(job_type=st.sampled_from(["check", "branch-a", "branch-b", "after-join"]),
          max_jobs=st.integers(1, 5), timeout=st.integers(1, 60_000))
    def activate(self, job_type: str, max_jobs: int, timeout: int) -> None:
        self._command(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATE,
                      {"type": job_type, "worker": "w", "timeout": timeout, "maxJobsToActivate": max_jobs})

    @rule(index=st.integers(0, 50), variables=st.dictionaries(st.sampled_from(["x", "y", "amount"]),
                                                               st.integers(-5, 5), max_size=2))
    def complete(self, index: int, variables: dict[str, int]) -> None:
        if self.jobs:
            self._command(ValueType.JOB, JobIntent.COMPLETE, {"variables": variables},
                          key=self.jobs[index % len(self.jobs)])

    @rule(index=st.integers(0, 50), retries=st.integers(0, 2), backoff=st.sampled_from([0, 1000]))
    def fail(self, index: int, retries: int, backoff: int) -> None:
        if self.jobs:
            self._command(ValueType.JOB, JobIntent.FAIL,
                          {"retries": retries, "errorMessage": "boom", "retryBackoff": backoff},
                          key=self.jobs[index % len(self.jobs)])

    @rule(index=st.integers(0, 50))
    def update_retries_and_resolve(self, index: int) -> None:
        if self.incidents:
            key = self.incidents[index % len(self.incidents)]
            for job in self.jobs:
                self._command(ValueType.JOB, JobIntent.UPDATE_RETRIES, {"retries": 1}, key=job)
            self._command(ValueType.INCIDENT, IncidentIntent.RESOLVE, {}, key=key)

    @rule(index=st.integers(0, 50))
    def cancel(self, index: int) -> None:
        if self.instances:
            self._command(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.CANCEL, {},
                          key=self.instances[index % len(self.instances)])

    @rule(index=st.integers(0, 50), value=st.integers(0, 2000), local=st.booleans())
    def set_variables(self, index: int, value: int, local: bool) -> None:
        if self.instances:
            self._command(ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATE,
                          {"scopeKey": self.instances[index % len(self.instances)], "variables": {"amount": value},
                           "updateSemantics": "LOCAL" if local else "PROPAGATE"})

    @rule(seconds=st.integers(1, 120))
    def time_passes(self, seconds: int) -> None:
        """Time moves on and the commands the engine's checkers find due (timeouts, back-offs) are processed."""
        self.now += seconds * 1000
        with self.processing.store.read() as txn:
            self.processing.state.bind(txn)
            from zeebe_trio.engine import due_commands

            due = due_commands(self.processing.state, self.now)
        for value_type, intent, key, value in due:
            self._command(value_type, intent, value, key=key)

    @invariant()
    def replayed_state_equals_processed_state(self) -> None:
        assert self.replaying.dump() == self.processing.dump()


ContinuousReplay.TestCase.settings = settings(max_examples=100, stateful_step_count=30, deadline=None,
                                              suppress_health_check=[HealthCheck.too_slow])
test_the_replayed_state_always_equals_the_processed_state = ContinuousReplay.TestCase
