"""The randomized Raft test (in the spirit of Zeebe's RandomizedRaftTest): seeded random schedules over the
deterministic simulation in `simulation.py` (drop, delay, duplicate, reorder, partitions, crashes with and
without losing what was not fsync'd, snapshots), the safety checker after every step, and liveness once the
faults stop. A planted bug must make the checker fail.

Rerun one schedule with ``RAFT_SEED=<seed>``; run more with ``RAFT_SCHEDULES=<count>``.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from dataclasses import replace

import pytest

from zeebe_trio.raft import RaftNode, Role

from .simulation import SIM_CONFIG, InvariantViolation, Simulation, run_schedule

SCHEDULES = int(os.environ.get("RAFT_SCHEDULES", "2000"))
STEPS = 300


def test_random_schedules_never_break_raft_safety_and_elect_a_committing_leader_once_faults_stop() -> None:
    """2,000 schedules of 300 random steps each, 3 or 5 nodes: about 70 schedules per second on an idle 2-core
    machine, 50 while other work runs, so 30-40 s. After every step: election safety, log matching, leader completeness,
    state-machine safety (and snapshots equal to the committed prefix); then, faults stopped, a leader must
    commit a new proposal within 100 ticks (ten election timeouts; the
    slowest of the first 1,000 schedules needed 31)."""
    seeds = [int(os.environ["RAFT_SEED"])] if "RAFT_SEED" in os.environ else range(SCHEDULES)
    totals: Counter[str] = Counter()
    started = time.perf_counter()
    for seed in seeds:
        try:
            sim = run_schedule(seed, steps=STEPS)
        except Exception as error:
            raise AssertionError(f"raft schedule with seed {seed} failed after its step {getattr(error, 'steps', '?')}:"
                                 f" {error} (rerun it alone with RAFT_SEED={seed})") from error
        totals.update(sim.counts)
        totals["terms with a leader"] += len(sim.leaders)
        totals["committed entries"] += len(sim.committed)
    elapsed = time.perf_counter() - started
    print(f"{len(seeds)} raft schedules in {elapsed:.1f} s ({len(seeds) / elapsed:.0f}/s): {dict(totals)}")
    if len(seeds) >= 1000:
        # The schedules must actually exercise what the checker guards.
        for what in ("truncations", "snapshot installs", "crashes losing unsynced data",
                     "crashes between write and fsync", "clean crashes", "compactions"):
            assert totals[what] >= 20, (what, totals)
        assert totals["terms with a leader"] >= len(seeds) * 6 // 5  # leaders change within schedules


def test_random_schedules_with_priority_election_keep_raft_safe_and_live() -> None:
    """Priority election only shapes the election timeouts; the same checks hold over 300 schedules (a
    seventh of the plain run's count: the timeouts are the only difference)."""
    for seed in range(SCHEDULES // 7 + 1 if "RAFT_SEED" not in os.environ else 0):
        try:
            run_schedule(seed, steps=STEPS, priority_election=True)
        except Exception as error:
            raise AssertionError(f"priority-election schedule {seed} failed: {error}") from error


def test_with_priority_election_the_first_member_is_elected_from_a_cold_start() -> None:
    for seed in range(50):
        order = random.Random(seed).sample(range(3), 3)
        sim = Simulation(3, seed, priority_order=order, config=replace(SIM_CONFIG, priority_election=True))
        leaders: list[int] = []
        for _ in range(60):
            while sim.network:
                sim.deliver(0)
            sim.tick()
            leaders = [i for i in sim.ids if (node := sim.nodes[i]) is not None and node.role is Role.LEADER]
            if leaders:
                break
        assert leaders == [order[0]], (seed, order, leaders)


class CommitsWithoutQuorum(RaftNode):
    """Planted bug: the leader commits what it has appended itself, without waiting for a quorum."""

    def _quorum_index(self) -> int:
        return self.last_index


class VotesForStaleLogs(RaftNode):
    """Planted bug: votes are granted without the log-up-to-date check (Raft §5.4.1)."""

    def _log_is_up_to_date(self, last_term: int, last_index: int) -> bool:
        return True


@pytest.mark.parametrize("node_class", [CommitsWithoutQuorum, VotesForStaleLogs])
def test_the_checker_catches_a_planted_bug(node_class: type[RaftNode]) -> None:
    for seed in range(300):
        try:
            run_schedule(seed, steps=STEPS, node_class=node_class)
        except InvariantViolation:
            return
    raise AssertionError(f"{node_class.__name__}: 300 schedules passed the checker")


def _run_with_proposals(sim: Simulation, ticks: int) -> None:
    """Deliver everything, propose on the leader and tick, `ticks` times, checking safety after each step."""
    for _ in range(ticks):
        while sim.network:
            sim.deliver(0)
            sim.check()
        sim.propose()
        sim.tick()
        sim.check()


def test_with_priority_election_a_leader_hands_leadership_to_the_primary_once_it_is_back() -> None:
    for seed in range(20):
        sim = Simulation(3, seed, priority_order=[0, 1, 2], config=replace(SIM_CONFIG, priority_election=True))
        sim.crash(0, lose_unsynced=False)
        _run_with_proposals(sim, 60)
        deputy = sim.nodes[1] if sim.nodes[1] is not None and sim.nodes[1].role is Role.LEADER else sim.nodes[2]
        assert deputy is not None and deputy.role is Role.LEADER, seed
        committed = dict(sim.committed)
        assert committed
        sim.restart(0)
        _run_with_proposals(sim, 80)  # it catches up; after an election timeout of leading, the deputy hands over
        primary = sim.nodes[0]
        assert primary is not None and primary.role is Role.LEADER, (seed, sim.leaders)
        assert deputy.role is Role.FOLLOWER
        # nothing committed before the handover is lost: the checker's state-machine safety says so after
        # every step, and the primary's log holds every committed entry
        assert all(primary.term_at(index) is not None or index <= primary.snapshot_index for index in committed)
