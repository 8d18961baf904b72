"""Random processes (Zeebe's ``RandomProcessGenerator`` idea, driven by Hypothesis: tasks, timer catch
events, embedded subprocesses, exclusive and parallel blocks): every generated
process deploys and its instance runs to its end while a worker completes, fails (with retries left, or
without, raising the incident the test then resolves) and lets jobs time out; another run cancels the
instance midway. After every command the replaying engine's state must equal the processing engine's
(``EngineHarness`` raises ``ReplayDiverged`` otherwise).

The processes are built from structured blocks (``_process_generator``), so they are sound and the
generator knows the path the instance takes. The default run tries a few dozen processes per test;
a long run:

    RANDOM_PROCESS_EXAMPLES=2000 .venv/bin/python -m pytest tests/engine/test_random_processes.py
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from _process_generator import GeneratedProcess, processes
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from zeebe_trio.protocol import (
    IncidentIntent,
    JobBatchIntent,
    JobIntent,
    ProcessInstanceIntent,
    RecordType,
    ValueType,
    VariableIntent,
)
from zeebe_trio.testing import EngineHarness

EXAMPLES = int(os.environ.get("RANDOM_PROCESS_EXAMPLES", "30"))
JOB_TIMEOUT_MS = 60_000
MAX_MISHAPS_PER_JOB = 2
"""A job is failed or left to time out at most this often, then completed."""

SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])

PI = ProcessInstanceIntent

# the state a finished instance must leave behind empty (deployments and the meta column stay)
_INSTANCE_STATE = ("element_instances", "element_children", "taken_flows", "variables", "scope_parents",
                   "pending_variables", "jobs", "jobs_activatable", "job_deadlines", "job_backoffs",
                   "incidents", "element_incidents", "awaiting_results", "timers", "timer_due_dates",
                   "element_timers", "event_triggers", "interrupted_scopes", "compensation_subscriptions")
TIMER_WAIT_MS = 30_000
"""The longest a generated timer catch event waits; a round that finds no job lets this much time pass."""


@dataclass
class Run:
    """One instance and what the worker did to it."""
    harness: EngineHarness
    process: GeneratedProcess
    pik: int
    planned_incidents: int = 0
    open_incidents: list[tuple[int, int]] = field(default_factory=list)  # (incident key, job key)

    def ended(self, intent: ProcessInstanceIntent) -> bool:
        return any(r.key == self.pik and r.intent is intent and r.record_type is RecordType.EVENT
                   for r in self.harness.records().process_instance_records(self.pik))


@dataclass
class Worker:
    """Drives the instances of one generated process, in rounds."""
    harness: EngineHarness
    process: GeneratedProcess
    runs: dict[int, Run] = field(default_factory=dict)
    rounds: int = 0
    mishaps: Counter[int] = field(default_factory=Counter)

    def start(self, instances: int) -> list[Run]:
        deployed = self.harness.deploy("generated.bpmn", self.process.xml)
        assert deployed is not None and deployed.record_type is RecordType.EVENT, \
            f"{deployed and deployed.rejection_reason}\n{self.process.xml.decode()}"
        for _ in range(instances):
            pik = self.harness.create_instance(self.process.process_id, self.process.variables)
            self.runs[pik] = Run(self.harness, self.process, pik)
        return list(self.runs.values())

    def max_rounds(self) -> int:
        # every round, each active job completes or has one of its mishaps (an incident is resolved
        # in the next round), and at least one job is activated
        return len(self.runs) * (self.process.service_tasks * (MAX_MISHAPS_PER_JOB + 1) + self.process.timers) + 2

    def round(self, data: st.DataObject) -> None:
        """Resolve the incidents of the last round, then activate every job type and complete, fail or
        ignore (let time out) each job; then let the time pass that brings back the jobs failed with a
        back-off or timed out."""
        harness = self.harness
        self.rounds += 1
        for run in self.runs.values():
            for incident_key, job_key in run.open_incidents:
                _assert_event(harness.update_retries(job_key, 1))
                _assert_event(harness.resolve_incident(incident_key))
            run.open_incidents.clear()
        wait = 0
        for job_type in self.process.job_types:
            activated = harness.write(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATE,
                                      {"type": job_type, "worker": "fuzzer", "timeout": JOB_TIMEOUT_MS,
                                       "maxJobsToActivate": data.draw(st.integers(1, 4), label="maxJobs")})
            assert activated is not None and activated.record_type is RecordType.EVENT
            for job_key, job in zip(activated.value["jobKeys"], activated.value["jobs"], strict=True):
                wait = max(wait, self._work(self.runs[job["processInstanceKey"]], job_key, job, data))
        if self.process.timers:
            wait = max(wait, TIMER_WAIT_MS)  # a timer catch event on the path may be waiting
        if wait:
            harness.advance(wait)

    def _work(self, run: Run, job_key: int, job: dict[str, Any], data: st.DataObject) -> int:
        """Complete, fail or ignore one job; how long to wait for it to be activatable again."""
        harness = self.harness
        action = "complete"
        if self.mishaps[job_key] < MAX_MISHAPS_PER_JOB:
            action = data.draw(st.sampled_from(["complete", "complete", "fail", "fail_no_retries", "time_out"]),
                               label=f"job {job['elementId']}")
        if action == "complete":
            variables = {f"done_{job['elementId']}": self.rounds} if data.draw(st.booleans(), label="vars") else {}
            _assert_event(harness.complete_job(job_key, variables))
            return 0
        self.mishaps[job_key] += 1
        if action == "fail" and job["retries"] > 1:
            backoff = data.draw(st.sampled_from([0, 1_000, 30_000]), label="backoff")
            _assert_event(harness.fail_job(job_key, job["retries"] - 1, "flaky", backoff))
            return backoff
        if action in ("fail", "fail_no_retries"):
            _assert_event(harness.fail_job(job_key, 0, "broken"))
            incident = harness.incidents(run.pik, IncidentIntent.CREATED)[-1]
            assert incident.value["jobKey"] == job_key and incident.value["errorType"] == "JOB_NO_RETRIES"
            run.planned_incidents += 1
            run.open_incidents.append((incident.key, job_key))
            return 0
        return JOB_TIMEOUT_MS + 1


def _assert_event(response: object) -> None:
    assert response is not None and getattr(response, "record_type", None) is RecordType.EVENT, \
        f"{getattr(response, 'rejection_type', None)}: {getattr(response, 'rejection_reason', response)}"


def _check_jobs_and_incidents(run: Run, *, canceled: bool) -> None:
    harness = run.harness
    jobs = harness.jobs(run.pik).only_events()
    created = {r.key for r in jobs.with_intent(JobIntent.CREATED)}
    ended = {r.key for r in jobs if r.intent in (JobIntent.COMPLETED, JobIntent.CANCELED)}
    assert created == ended, f"jobs neither completed nor canceled: {sorted(created - ended)}"
    if not canceled:
        assert not jobs.with_intent(JobIntent.CANCELED)
        assert len(created) == sum(1 for e in run.process.expected_elements if e.startswith("servicetask"))
    incidents = harness.incidents(run.pik).only_events()
    assert len(incidents.with_intent(IncidentIntent.CREATED)) == run.planned_incidents
    assert {r.key for r in incidents.with_intent(IncidentIntent.CREATED)} \
        == {r.key for r in incidents.with_intent(IncidentIntent.RESOLVED)}


def _check_no_state_left(harness: EngineHarness) -> None:
    state = harness.dump_state()
    left = {name: state[name] for name in _INSTANCE_STATE if state.get(name)}
    assert not left, f"a finished instance left state behind: {left}"


@SETTINGS
@given(process=processes(), instances=st.integers(1, 2), data=st.data())
def test_every_generated_process_runs_to_its_end(process: GeneratedProcess, instances: int,
                                                 data: st.DataObject) -> None:
    with EngineHarness() as harness:
        worker = Worker(harness, process)
        runs = worker.start(instances)
        while not all(run.ended(PI.ELEMENT_COMPLETED) for run in runs):
            assert worker.rounds < worker.max_rounds(), f"not completed after {worker.rounds} rounds"
            worker.round(data)

        event(f"{process.service_tasks} service tasks, {len(process.expected_elements)} elements on the path")
        event(f"{sum(run.planned_incidents for run in runs)} planned incidents, {worker.rounds} rounds")
        for run in runs:
            events = harness.records().only_events().process_instance_records(run.pik)
            completed = Counter(r.value["elementId"] for r in events.with_intent(PI.ELEMENT_COMPLETED)
                                if r.value["bpmnElementType"] not in ("PROCESS", "SEQUENCE_FLOW"))
            assert completed == Counter(process.expected_elements)
            assert not events.with_intent(PI.ELEMENT_TERMINATED)
            _check_jobs_and_incidents(run, canceled=False)
            variables = {r.value["name"]: json.loads(r.value["value"])
                         for r in harness.records().only_events().with_value_type(ValueType.VARIABLE)
                         if r.intent in (VariableIntent.CREATED, VariableIntent.UPDATED)
                         and r.value["scopeKey"] == run.pik}
            assert {name: variables.get(name) for name in process.expected_outputs} == process.expected_outputs
        _check_no_state_left(harness)


@SETTINGS
@given(process=processes(), data=st.data())
def test_every_generated_process_can_be_canceled_midway(process: GeneratedProcess, data: st.DataObject) -> None:
    assume(any(element.startswith("servicetask") for element in process.expected_elements))
    with EngineHarness() as harness:
        worker = Worker(harness, process)
        run, other = worker.start(2)  # the other instance runs on to its end
        cancel_after = data.draw(st.integers(0, process.service_tasks), label="cancel after rounds")
        while not run.ended(PI.ELEMENT_COMPLETED) and worker.rounds < cancel_after:
            worker.round(data)
        if not run.ended(PI.ELEMENT_COMPLETED):
            event(f"canceled after {worker.rounds} rounds" + (" with an open incident" if run.open_incidents else ""))
            _assert_event(harness.cancel(run.pik))
            run.open_incidents.clear()  # canceling resolved them
            assert run.ended(PI.ELEMENT_TERMINATED)
            assert not run.ended(PI.ELEMENT_COMPLETED)
            events = harness.records().only_events().process_instance_records(run.pik)
            activated = Counter(r.key for r in events.with_intent(PI.ELEMENT_ACTIVATING))
            finished = Counter(r.key for r in events if r.intent in (PI.ELEMENT_COMPLETED, PI.ELEMENT_TERMINATED))
            assert activated == finished, "every element instance ends once, completed or terminated"
            _check_jobs_and_incidents(run, canceled=True)
        while not other.ended(PI.ELEMENT_COMPLETED):
            assert worker.rounds < worker.max_rounds(), f"not completed after {worker.rounds} rounds"
            worker.round(data)
        _check_jobs_and_incidents(other, canceled=False)
        _check_no_state_left(harness)
