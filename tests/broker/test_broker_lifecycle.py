"""A single-node broker driven through its command API: real log, real state, real stream processor."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from zeebe_trio.protocol import (
    IncidentIntent,
    JobIntent,
    ProcessInstanceIntent,
    ProcessInstanceResultIntent,
    RejectionType,
    ValueType,
)
from zeebe_trio.testing import one_task_bpmn, open_broker, service_tasks_bpmn

GATEWAYS = Path(__file__).parent / "gateways.bpmn"


async def test_deploying_twice_returns_the_same_version_and_a_changed_model_a_new_one(tmp_path: Path) -> None:
    async with open_broker(tmp_path) as broker:
        first = await broker.deploy("p.bpmn", one_task_bpmn("p"))
        again = await broker.deploy("p.bpmn", one_task_bpmn("p"))
        changed = await broker.deploy("p.bpmn", one_task_bpmn("p", job_type="other"))
    [meta1], [meta2], [meta3] = (r.value["processesMetadata"] for r in (first, again, changed))
    assert meta1["version"] == 1 and not meta1["isDuplicate"]
    assert (meta2["version"], meta2["processDefinitionKey"], meta2["isDuplicate"]) == (1, meta1["processDefinitionKey"], True)
    assert meta3["version"] == 2 and meta3["processDefinitionKey"] != meta1["processDefinitionKey"]


async def test_the_first_key_on_partition_one_is_zeebes(tmp_path: Path) -> None:
    async with open_broker(tmp_path) as broker:
        deployment = await broker.deploy("p.bpmn", one_task_bpmn("p"))
    assert deployment.key == 2251799813685249


async def test_an_invalid_model_is_rejected_naming_file_and_element(tmp_path: Path) -> None:
    bad = one_task_bpmn("p").replace(b'<zeebe:taskDefinition type="work" retries="3"/>', b"")
    async with open_broker(tmp_path) as broker:
        rejection = await broker.deploy("bad.bpmn", bad)
    assert rejection.is_rejection and rejection.rejection_type is RejectionType.INVALID_ARGUMENT
    assert "bad.bpmn" in rejection.rejection_reason and "task1" in rejection.rejection_reason


async def test_a_one_task_instance_runs_to_completion_with_result(tmp_path: Path) -> None:
    async with open_broker(tmp_path) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        async with trio.open_nursery() as nursery:
            results = []

            async def create() -> None:
                results.append(await broker.create_instance("p", {"x": 1}, with_result=True))

            nursery.start_soon(create)
            await broker.wait_for_record(lambda r: r.value_type is ValueType.JOB and r.intent is JobIntent.CREATED)
            [(job_key, job)] = await broker.activate("work")
            assert job["variables"] == {"x": 1}
            await broker.complete(job_key, {"y": 2})
        [result] = results
    assert result.value_type is ValueType.PROCESS_INSTANCE_RESULT
    assert result.intent is ProcessInstanceResultIntent.COMPLETED
    assert result.value["variables"] == {"x": 1, "y": 2}


async def test_exclusive_and_parallel_gateways_route_and_join(tmp_path: Path) -> None:
    async with open_broker(tmp_path) as broker:
        await broker.deploy("gateways.bpmn", GATEWAYS.read_bytes())
        big = await broker.create_instance("gateways", {"amount": 500})
        small = await broker.create_instance("gateways", {"amount": 5})
        # amount > 100: the exclusive gateway routes to the parallel fork: two jobs, then a join.
        jobs = await broker.activate("check")
        assert [j["processInstanceKey"] for _, j in jobs] == [big.key]
        await broker.complete(jobs[0][0])
        assert await broker.activate("check") == []
        [(a_key, _)] = await broker.activate("branch-a")
        [(b_key, _)] = await broker.activate("branch-b")
        await broker.complete(a_key)
        assert await broker.activate("after-join") == []  # the join still waits for branch b
        await broker.complete(b_key)
        [(after_key, after)] = await broker.activate("after-join")
        assert after["processInstanceKey"] == big.key
        await broker.complete(after_key)
        records = broker.records()
    completed = {r.key for r in records if r.intent is ProcessInstanceIntent.ELEMENT_COMPLETED
                 and r.value["bpmnElementType"] == "PROCESS"}
    assert completed == {big.key, small.key}  # the small one took the default flow straight to the end


async def test_a_failed_job_without_retries_raises_an_incident_that_resolves_after_retries_update(tmp_path: Path) -> None:
    async with open_broker(tmp_path) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        await broker.create_instance("p")
        [(job_key, _)] = await broker.activate("work")
        await broker.fail(job_key, retries=0, message="card declined")
        incident = next(r for r in broker.records() if r.intent is IncidentIntent.CREATED
                        and r.value_type is ValueType.INCIDENT)
        assert incident.value["errorType"] == "JOB_NO_RETRIES"
        assert incident.value["errorMessage"] == "card declined"
        assert await broker.activate("work") == []
        refused = await broker.resolve(incident.key)
        assert refused.is_rejection and "retries" in refused.rejection_reason
        await broker.update_retries(job_key, 1)
        resolved = await broker.resolve(incident.key)
        assert resolved.intent is IncidentIntent.RESOLVED
        [(again, _)] = await broker.activate("work")
        assert again == job_key


async def test_completing_an_unknown_job_is_not_found_and_a_failed_one_is_invalid_state(tmp_path: Path) -> None:
    async with open_broker(tmp_path) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        await broker.create_instance("p")
        [(job_key, _)] = await broker.activate("work")
        unknown = await broker.complete(job_key + 1000)
        await broker.fail(job_key, retries=0)
        failed = await broker.complete(job_key)
    assert unknown.rejection_type is RejectionType.NOT_FOUND and str(job_key + 1000) in unknown.rejection_reason
    assert failed.rejection_type is RejectionType.INVALID_STATE and "FAILED" in failed.rejection_reason


async def test_cancel_terminates_the_instance_and_its_job(tmp_path: Path) -> None:
    async with open_broker(tmp_path) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        instance = await broker.create_instance("p")
        [(job_key, _)] = await broker.activate("work")
        response = await broker.cancel(instance.key)
        assert response.intent is ProcessInstanceIntent.ELEMENT_TERMINATING
        again = await broker.cancel(instance.key)
        late = await broker.complete(job_key)
        records = broker.records()
    assert again.rejection_type is RejectionType.NOT_FOUND
    assert late.rejection_type is RejectionType.NOT_FOUND
    terminated = [r.value["elementId"] for r in records if r.intent is ProcessInstanceIntent.ELEMENT_TERMINATED]
    assert terminated == ["task1", "p"]


async def test_restart_recovers_state_from_snapshot_and_log(tmp_path: Path) -> None:
    async with open_broker(tmp_path) as broker:
        await broker.deploy("p.bpmn", service_tasks_bpmn("p", ["a", "b"]))
        instance = await broker.create_instance("p", {"n": 1})
        [(a_key, _)] = await broker.activate("a")
        await broker.complete(a_key, {"m": 2})
        await broker.partition.take_snapshot()
        second = await broker.create_instance("p", {"n": 2})  # after the snapshot: replayed from the log
    async with open_broker(tmp_path) as broker:
        jobs = await broker.activate("b")
        assert sorted(j["processInstanceKey"] for _, j in jobs) == [instance.key]
        assert jobs[0][1]["variables"] == {"n": 1, "m": 2}
        [(a2, job)] = await broker.activate("a")
        assert job["processInstanceKey"] == second.key
        fresh = await broker.create_instance("p")
        assert fresh.key > second.key  # the key generator survived the restart


@pytest.mark.parametrize("snapshot_midway", [False, True])
async def test_state_rebuilt_by_replaying_the_log_equals_the_processed_state(tmp_path: Path, snapshot_midway: bool) -> None:
    async with open_broker(tmp_path / "live") as broker:
        await broker.deploy("gateways.bpmn", GATEWAYS.read_bytes())
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        for amount in (1, 500, 7, 900):
            await broker.create_instance("gateways", {"amount": amount, "name": f"order {amount}"})
        if snapshot_midway:
            await broker.partition.take_snapshot()
        for _key, _job in await broker.activate("check"):
            await broker.complete(_key, {"checked": True})
        [(fail_key, _), *_] = await broker.activate("branch-a")
        await broker.fail(fail_key, retries=0, message="boom")
        instance = await broker.create_instance("p")
        await broker.cancel(instance.key)
        live_state = _dump(broker.partition)
    # A second broker on a copy of the log only (no snapshot) rebuilds the state by replay alone.
    import shutil

    replica = tmp_path / "replica" / "partition-1"
    replica.mkdir(parents=True)
    shutil.copytree(tmp_path / "live" / "partition-1" / "log", replica / "log")
    async with open_broker(tmp_path / "replica") as broker:
        assert broker.partition.processor.replayed_events > 0
        replayed_state = _dump(broker.partition)
    assert replayed_state == live_state


def _dump(partition) -> dict:  # type: ignore[no-untyped-def]
    state = partition.engine.state
    with partition.store.read() as txn:
        state.bind(txn)
        return state.dump()


class _Sink:
    def __init__(self) -> None:
        self.jobs: list[int] = []

    def push(self, job_key: int, job: dict) -> bool:  # type: ignore[type-arg]
        self.jobs.append(job_key)
        return True


async def test_a_job_stream_gets_new_jobs_pushed_and_undelivered_ones_return_when_it_closes(tmp_path: Path) -> None:
    from zeebe_trio.gateway import JobStreamSpec

    async with open_broker(tmp_path) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p", "pushed"))
        sink = _Sink()
        close = broker.broker.open_job_stream(JobStreamSpec("pushed", "streamer", 60_000), sink)
        await broker.create_instance("p")
        [job_key] = sink.jobs  # activated for the stream and pushed once the batch was durable
        assert await broker.activate("pushed") == []
        close([job_key])  # the client went away before the job reached it
        await broker.wait_for_record(lambda r: r.value_type is ValueType.JOB and r.intent is JobIntent.YIELDED)
        [(again, job)] = await broker.activate("pushed", worker="poller")
    assert again == job_key and job["worker"] == "poller"


async def test_a_result_awaited_before_a_restart_never_answers_a_request_of_the_next_run(tmp_path: Path) -> None:
    async with open_broker(tmp_path) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p", "slow"))
        await broker.deploy("q.bpmn", one_task_bpmn("q", "quick"))
        with trio.move_on_after(0.5):  # the caller gives up; the registration stays in state
            await broker.create_instance("p", {"old": True}, with_result=True)
    async with open_broker(tmp_path) as broker:
        results = []
        # Two requests first, so that the next one gets request id 3 again, as the lost one had
        # (ids 1 and 2 went to the deployments of the first run).
        await broker.deploy("p.bpmn", one_task_bpmn("p", "slow"))
        await broker.deploy("q.bpmn", one_task_bpmn("q", "quick"))

        async def create_q() -> None:
            results.append(await broker.create_instance("q", {"new": True}, with_result=True, timeout=30))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(create_q)
            await broker.wait_for_record(lambda r: r.value_type is ValueType.JOB and r.intent is JobIntent.CREATED
                                         and r.value["type"] == "quick")
            [(slow_key, _)] = await broker.activate("slow")
            await broker.complete(slow_key)  # completes the old instance first
            [(quick_key, _)] = await broker.activate("quick")
            await broker.complete(quick_key)
    [result] = results
    assert result.value["bpmnProcessId"] == "q" and result.value["variables"] == {"new": True}


async def test_a_partition_that_fails_to_start_closes_its_log(tmp_path: Path) -> None:
    from zeebe_trio.broker import BrokerConfig, EngineClock, Partition
    from zeebe_trio.engine import JobStreams

    runtime = tmp_path / "partition-1" / "runtime"
    runtime.parent.mkdir(parents=True)
    runtime.write_text("not a directory")  # restoring the state store must fail
    partition = Partition(1, BrokerConfig(data_dir=tmp_path, exporters={}), EngineClock(), JobStreams(),
                          lambda job_type: None, lambda stream_id, job_key, job: False)
    from zeebe_trio.log import LogClosedError

    with pytest.raises(OSError):  # the runtime state directory cannot be recreated
        await partition.run()
    with pytest.raises(LogClosedError):  # ... and the log it had opened was closed again
        partition.log.append(1, b"", 1, 0)
