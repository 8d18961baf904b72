"""A deterministic simulation of a Raft cluster: RaftNodes stepped directly (no trio), a network of
in-flight messages that the schedule drops, delays, duplicates, reorders and partitions, crashes that lose
what was not fsync'd, and the safety checker run after every step.

Each node is driven exactly as `RaftServer` drives it (write the Ready, send its early messages, sync,
send the rest, report the durable index); a crash may strike between the writes and the sync.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from zeebe_trio.raft import MemoryRaftLog, RaftConfig, RaftMessage, RaftNode, RaftSnapshot, Role, write_ready


class InvariantViolation(AssertionError):
    pass


@dataclass(slots=True)
class _InFlight:
    deliver_at: int
    seq: int
    message: RaftMessage


SIM_CONFIG = RaftConfig(election_timeout_ticks=10, heartbeat_ticks=2, max_entries_per_message=3,
                        max_bytes_per_message=64, max_inflight_appends=2, max_uncommitted_entries=40,
                        snapshot_chunk_bytes=16)


def _chain(previous: bytes, index: int, term: int, data: bytes) -> bytes:
    return hashlib.blake2b(previous + index.to_bytes(8, "little") + term.to_bytes(8, "little") + data,
                           digest_size=8).digest()


class Simulation:
    """`size` nodes; `node_class` lets a test plant a bug in the node."""

    def __init__(self, size: int, seed: int, *, config: RaftConfig = SIM_CONFIG,
                 node_class: type[RaftNode] = RaftNode, priority_order: list[int] | None = None) -> None:
        self.rng = random.Random(seed)
        self.ids = list(range(size))
        self.members = priority_order or self.ids  # the order the nodes are given their members in
        self.config = config
        self.node_class = node_class
        self.stores = {i: MemoryRaftLog() for i in self.ids}
        self.nodes: dict[int, RaftNode | None] = {}
        self.snapshots: dict[int, RaftSnapshot] = {}
        self.taken: dict[int, RaftSnapshot] = {}
        self.applied: dict[int, int] = {}
        self.state: dict[int, bytes] = {}
        self.now = 0
        self.seq = 0
        self.network: list[_InFlight] = []
        self.groups: dict[int, int] | None = None
        self.drop_rate = 0.0
        self.duplicate_rate = 0.0
        self.max_delay = 0
        self.crash_mid_ready = 0.0
        self.committed: dict[int, tuple[int, bytes]] = {}
        self.commit_term: dict[int, int] = {}
        self.chain: dict[int, bytes] = {0: b""}
        self.leaders: dict[int, int] = {}
        self.proposals = 0
        self.steps = 0
        self.counts: Counter[str] = Counter()
        """What the schedule exercised (crashes, truncations, snapshot installs, ...), to keep the test honest."""
        self._changed: set[int] = set(self.ids)
        """Nodes whose log changed since the last check (only their pairs need the log-matching check)."""
        for i in self.ids:
            self._start(i)

    # ------------------------------------------------------------------------------------- running nodes

    def _start(self, i: int) -> None:
        store = self.stores[i]
        snapshot = self.snapshots.get(i) if store.snapshot_index else None
        self.nodes[i] = self.node_class(i, self.members, store, self.config, rng=random.Random(self.rng.random()),
                                        snapshot=snapshot)
        self.applied[i] = store.snapshot_index
        self.state[i] = snapshot.data if snapshot else b""
        self._drain(i)

    def crash(self, i: int, *, lose_unsynced: bool) -> None:
        self.stores[i].crash(lose_unsynced=lose_unsynced)
        self.counts["crashes losing unsynced data" if lose_unsynced else "clean crashes"] += 1
        self._changed.add(i)
        self.nodes[i] = None

    def restart(self, i: int) -> None:
        if self.nodes[i] is None:
            self._start(i)

    def _drain(self, i: int) -> None:
        node, store = self.nodes[i], self.stores[i]
        while node is not None and (ready := node.ready()) is not None:
            write_ready(store, ready)
            if ready.needs_sync or ready.compact:
                self._changed.add(i)
            if ready.truncate_after is not None:
                self.counts["truncations"] += 1
            if ready.compact is not None:
                self.counts["compactions"] += 1
            if ready.install_snapshot is not None:
                snapshot = ready.install_snapshot
                if snapshot.data != self.chain.get(snapshot.index):
                    raise InvariantViolation(f"node {i} installed a snapshot at {snapshot.index} whose state"
                                             " differs from the committed entries")
                self.snapshots[i] = snapshot
                self.counts["snapshot installs"] += 1
                self.applied[i] = snapshot.index
                self.state[i] = snapshot.data
            for message in ready.messages:
                self._send(message)
            if ready.needs_sync and self.rng.random() < self.crash_mid_ready:
                self.counts["crashes between write and fsync"] += 1
                self.crash(i, lose_unsynced=True)
                return
            store.sync()
            for message in ready.persisted_messages:
                self._send(message)
            node.on_persisted(store.durable_index)
            if ready.compact is not None:
                store.compact(*ready.compact)
                self.snapshots[i] = self.taken[i]
            self._apply(i, node)

    def _apply(self, i: int, node: RaftNode) -> None:
        while self.applied[i] < node.commit_index:
            index = self.applied[i] + 1
            (entry,) = node.entries(index, index)
            known = self.committed.get(index)
            if known is None:
                self.committed[index] = (entry.term, entry.data)
                self.commit_term[index] = node.term
                self.chain[index] = _chain(self.chain[index - 1], index, entry.term, entry.data)
            elif known != (entry.term, entry.data):
                raise InvariantViolation(f"state-machine safety: node {i} applies {(entry.term, entry.data)} at"
                                         f" {index}, another node applied {known}")
            self.state[i] = self.chain[index]
            self.applied[i] = index

    # -------------------------------------------------------------------------------------- the network

    def _connected(self, a: int, b: int) -> bool:
        return self.groups is None or self.groups[a] == self.groups[b]

    def _send(self, message: RaftMessage) -> None:
        if not self._connected(message.source, message.target) or self.rng.random() < self.drop_rate:
            return
        if len(self.network) >= 400:
            return  # the network's buffers are bounded too
        copies = 2 if self.rng.random() < self.duplicate_rate else 1
        for _ in range(copies):
            self.seq += 1
            self.network.append(_InFlight(self.now + self.rng.randint(0, self.max_delay), self.seq, message))

    def deliver(self, position: int) -> None:
        item = self.network.pop(position)
        target = item.message.target
        node = self.nodes[target]
        if node is None or not self._connected(item.message.source, target):
            return
        node.step(item.message)
        self._drain(target)

    def deliverable(self) -> list[int]:
        return [p for p, item in enumerate(self.network) if item.deliver_at <= self.now]

    def tick(self) -> None:
        self.now += 1
        for i in self.ids:
            node = self.nodes[i]
            if node is not None:
                node.tick()
                self._drain(i)

    def propose(self) -> bool:
        for i in self.ids:
            node = self.nodes[i]
            if node is not None and node.role is Role.LEADER:
                self.proposals += 1
                try:
                    node.propose(f"p{self.proposals}".encode())
                except Exception:
                    return False
                self._drain(i)
                return True
        return False

    def take_snapshot(self, i: int) -> None:
        node = self.nodes[i]
        if node is None or self.applied[i] <= node.snapshot_index:
            return
        index = self.applied[i]
        term = node.term_at(index)
        assert term is not None
        snapshot = RaftSnapshot(index, term, self.chain[index])
        self.taken[i] = snapshot
        node.snapshot_taken(snapshot)
        self._drain(i)

    # ------------------------------------------------------------------------------------- the checker

    def check(self) -> None:
        self.steps += 1
        for i in self.ids:
            node = self.nodes[i]
            if node is not None and node.role is Role.LEADER:
                first = self.leaders.setdefault(node.term, i)
                if first != i:
                    raise InvariantViolation(f"election safety: nodes {first} and {i} both lead term {node.term}")
                self._check_leader_completeness(i, node)
        for a in self.ids:
            for b in self.ids:
                if a < b and (a in self._changed or b in self._changed):
                    self._check_log_matching(a, b)
        self._changed.clear()

    def _check_leader_completeness(self, i: int, node: RaftNode) -> None:
        store = self.stores[i]
        for index, (term, data) in self.committed.items():
            if self.commit_term[index] > node.term or index <= store.snapshot_index:
                continue
            if index > store.last_index:
                raise InvariantViolation(f"leader completeness: leader {i} of term {node.term} lacks committed"
                                         f" entry {index}")
            (entry,) = store.entries(index, index)
            if (entry.term, entry.data) != (term, data):
                raise InvariantViolation(f"leader completeness: leader {i} of term {node.term} holds"
                                         f" {(entry.term, entry.data)} at committed index {index}, not {(term, data)}")

    def _check_log_matching(self, a: int, b: int) -> None:
        log_a, log_b = self.stores[a], self.stores[b]
        low = max(log_a.first_index, log_b.first_index, log_a.snapshot_index + 1, log_b.snapshot_index + 1)
        high = min(log_a.last_index, log_b.last_index)
        if high < low:
            return
        entries_a, entries_b = log_a.entries(low, high), log_b.entries(low, high)
        top = next((k for k in range(len(entries_a) - 1, -1, -1) if entries_a[k].term == entries_b[k].term), None)
        if top is not None and entries_a[: top + 1] != entries_b[: top + 1]:
            raise InvariantViolation(f"log matching: nodes {a} and {b} agree on the term at index {low + top} but"
                                     " differ before it")

    # ---------------------------------------------------------------------------------- a whole schedule

    def random_step(self) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.25:
            self.tick()
        elif roll < 0.68:
            ready = self.deliverable()
            if ready:
                self.deliver(ready[0] if rng.random() < 0.6 else rng.choice(ready))
        elif roll < 0.71:
            if self.network:
                self.network.pop(rng.randrange(len(self.network)))
        elif roll < 0.73:
            if self.network:
                item = rng.choice(self.network)
                self.seq += 1
                self.network.append(_InFlight(self.now + rng.randint(0, self.max_delay), self.seq, item.message))
        elif roll < 0.87:
            self.propose()
        elif roll < 0.89:
            self.groups = {i: rng.randrange(2) for i in self.ids}
        elif roll < 0.915:
            self.groups = None
        elif roll < 0.93:
            up = [i for i in self.ids if self.nodes[i] is not None]
            if len(up) > 1:
                self.crash(rng.choice(up), lose_unsynced=rng.random() < 0.5)
        elif roll < 0.965:
            down = [i for i in self.ids if self.nodes[i] is None]
            if down:
                self.restart(rng.choice(down))
        else:
            self.take_snapshot(rng.choice(self.ids))
        self.check()

    def settle(self, max_ticks: int) -> int:
        """Faults stop: heal, restart everyone, deliver everything in order; return the ticks until a leader
        committed a new proposal (raise if that takes more than `max_ticks`)."""
        self.groups = None
        self.drop_rate = self.duplicate_rate = self.crash_mid_ready = 0.0
        self.max_delay = 0
        for i in self.ids:
            self.restart(i)
            self.check()
        target: tuple[int, int] | None = None
        for elapsed in range(max_ticks):
            for _ in range(10_000):
                if not self.network:
                    break
                self.deliver(0)
                self.check()
            else:
                raise InvariantViolation("liveness: the nodes keep sending messages without a tick passing")
            if target is None:
                for i in self.ids:
                    node = self.nodes[i]
                    if node is not None and node.role is Role.LEADER:
                        self.proposals += 1
                        try:
                            target = (i, node.propose(f"final{self.proposals}".encode()))
                        except Exception:
                            target = None
                        self._drain(i)
                        break
            if target is not None:
                leader = self.nodes[target[0]]
                if leader is not None and leader.commit_index >= target[1]:
                    if leader.role is Role.LEADER and self.committed.get(target[1], (0, b""))[1].startswith(b"final"):
                        return elapsed
                if leader is None or leader.role is not Role.LEADER:
                    target = None
            self.tick()
            self.check()
        raise InvariantViolation(f"liveness: no leader committed a proposal within {max_ticks} ticks after the"
                                 " faults stopped")


def run_schedule(seed: int, *, steps: int, node_class: type[RaftNode] = RaftNode,
                 on_sim: Callable[[Simulation], None] | None = None, priority_election: bool = False) -> Simulation:
    """One random schedule: a random cluster size and fault mix, `steps` random steps, then `settle`. With
    `priority_election`, the nodes rank each other in a random order and time out by rank."""
    rng = random.Random(seed)
    size = rng.choice((3, 3, 5))
    if priority_election:
        order = rng.sample(range(size), size)
        sim = Simulation(size, seed, node_class=node_class, priority_order=order,
                         config=replace(SIM_CONFIG, priority_election=True))
    else:
        sim = Simulation(size, seed, node_class=node_class)
    sim.drop_rate = rng.choice((0.0, 0.05, 0.2))
    sim.duplicate_rate = rng.choice((0.0, 0.05))
    sim.max_delay = rng.choice((0, 1, 3))
    sim.crash_mid_ready = rng.choice((0.0, 0.01))
    if on_sim is not None:
        on_sim(sim)
    for _ in range(steps):
        sim.random_step()
    sim.settle(max_ticks=100)
    return sim
