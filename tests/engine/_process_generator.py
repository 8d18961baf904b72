"""A random process generator (the idea of Zeebe's ``RandomProcessGenerator``) for the BPMN elements that
run today (not a test module).

A process is built from structured blocks, so every one is sound (no deadlock, no lack of
synchronization): a task, an intermediate timer catch event, a task compensated by a later compensation
throw event, an embedded subprocess holding a block, a
sequence of blocks, an exclusive block (a split with a FEEL condition per
branch on a variable the generator sets, a default flow, and a merge) or a parallel block (a fork and a
join over the same branches). A branch may be empty (a flow straight from the split to the merge).
The body runs between a none start event and a none end event, or it ends in a split whose every
branch has an end event of its own.

Because the generator chooses the gateway variables too, it knows the path an instance takes:
``GeneratedProcess.expected_elements`` are the ids of the elements that complete, each once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import strategies as st

MAX_DEPTH = 3
"""How deeply blocks nest (a block inside a branch inside a block ...)."""
MAX_TASKS = 10
"""At most this many tasks per process; once spent, a block's children are empty branches or one task."""
JOB_TYPES = ("alpha", "beta", "gamma")
"""Few job types, so tasks share them and one activation returns jobs of several elements."""

_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
         ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="http://zeebe-trio">')


# -- the block tree ------------------------------------------------------------------------------

TaskKind = Literal["serviceTask", "task", "manualTask"]
_TASK_KINDS: tuple[TaskKind, ...] = ("serviceTask", "serviceTask", "serviceTask", "task", "manualTask")


@dataclass(frozen=True)
class Task:
    kind: TaskKind
    job_type: str | None = None
    job_type_expression: bool = False  # type="=&quot;alpha&quot;" instead of type="alpha"
    retries: int = 3
    io_mapping: bool = False  # an input from a process variable and an output into the process scope


@dataclass(frozen=True)
class Sequence:
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Exclusive:
    """Branch ``i`` has the condition ``= x = i`` (or ``= x = "b<i>"``), except the default branch;
    the generator sets ``x`` to a value choosing ``chosen`` (the default when no condition matches)."""
    branches: tuple[Block | None, ...]
    default: int
    chosen: int
    strings: bool  # whether the variable holds "b<i>" rather than i


@dataclass(frozen=True)
class Parallel:
    branches: tuple[Block | None, ...]


@dataclass(frozen=True)
class SubProcess:
    """An embedded subprocess: a none start event, ``inner``, a none end event, and its own scope."""
    inner: Block


@dataclass(frozen=True)
class Timer:
    """An intermediate timer catch event due ``seconds`` after it is entered."""
    seconds: int


@dataclass(frozen=True)
class Compensated:
    """``task`` with a compensation boundary event and an undefined-task handler, then a compensation
    throw event naming the task (``activityRef``): the handler runs once, and the throw event waits for it."""
    task: Task


Block = Task | Sequence | Exclusive | Parallel | SubProcess | Timer | Compensated


@dataclass(frozen=True)
class Tail:
    """The process ends in a split whose every branch ends in an end event of its own."""
    split: Exclusive | Parallel


# -- rendering -----------------------------------------------------------------------------------

@dataclass
class GeneratedProcess:
    process_id: str
    xml: bytes
    variables: dict[str, Any]
    """The creation variables: the gateway variables and ``base`` (io mapping inputs read it)."""
    expected_elements: list[str]
    """Ids of the flow nodes an instance completes (each once), for the generated variables."""
    job_types: list[str]
    service_tasks: int
    expected_outputs: dict[str, Any]
    """Process variables that the output mappings of the tasks on the path set, with their values."""
    timers: int
    """Timer catch events on the path (the worker lets their time pass)."""
    body: Block
    tail: Tail | None



@dataclass
class _Renderer:
    base: int
    nodes: list[tuple[str, str, str]] = field(default_factory=list)
    """(tag, id, inner XML) of each flow node."""
    flows: list[str] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    expected: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    job_types: set[str] = field(default_factory=set)
    service_tasks: int = 0
    timers: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    def flow(self, source: str, target: str, condition: str | None = None, *, default: bool = False) -> None:
        flow_id = self.next_id("flow")
        body = f"<bpmn:conditionExpression>{_escape(condition)}</bpmn:conditionExpression>" if condition else ""
        self.flows.append(f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{body}'
                          "</bpmn:sequenceFlow>")
        if default:
            self.defaults[source] = flow_id

    def render(self, block: Block, source: str, condition: str | None, default: bool, on_path: bool) -> str:
        """Render ``block`` entered by a flow from ``source`` (with ``condition``); its exit node's id."""
        if isinstance(block, Task):
            return self._task(block, source, condition, default, on_path)
        if isinstance(block, Timer):
            node_id = self._node("intermediateCatchEvent", "timer", source, condition, default, on_path)
            index = next(i for i, node in enumerate(self.nodes) if node[1] == node_id)
            self.nodes[index] = ("intermediateCatchEvent", node_id,
                                 f"<bpmn:timerEventDefinition><bpmn:timeDuration>PT{block.seconds}S"
                                 "</bpmn:timeDuration></bpmn:timerEventDefinition>")
            if on_path:
                self.timers += 1
            return node_id
        if isinstance(block, SubProcess):
            return self._sub_process(block, source, condition, default, on_path)
        if isinstance(block, Compensated):
            return self._compensated(block, source, condition, default, on_path)
        if isinstance(block, Sequence):
            for index, inner in enumerate(block.blocks):
                source = self.render(inner, source, condition if index == 0 else None,
                                     default and index == 0, on_path)
            return source
        kind = "exclusiveGateway" if isinstance(block, Exclusive) else "parallelGateway"
        split = self._node(kind, "split", source, condition, default, on_path)
        merge = self.next_id("merge")
        for index, branch in enumerate(block.branches):
            branch_condition, branch_default, taken = self._branch(block, split, index, on_path)
            if branch is None:
                self.flow(split, merge, branch_condition, default=branch_default)
            else:
                exit_id = self.render(branch, split, branch_condition, branch_default, taken)
                self.flow(exit_id, merge)
        self.nodes.append((kind, merge, ""))
        if on_path:
            self.expected.append(merge)
        return merge

    def _sub_process(self, block: SubProcess, source: str, condition: str | None, default: bool,
                     on_path: bool) -> str:
        sub_id = self.next_id("sub")
        self.flow(source, sub_id, condition, default=default)
        outer_nodes, outer_flows = self.nodes, self.flows
        self.nodes, self.flows = [], []
        start, end = self.next_id("substart"), self.next_id("subend")
        self.nodes.append(("startEvent", start, ""))
        if on_path:
            self.expected.append(start)
        exit_id = self.render(block.inner, start, None, False, on_path)
        self.flow(exit_id, end)
        self.nodes.append(("endEvent", end, ""))
        if on_path:
            self.expected += [end, sub_id]
        inner = self._nodes_xml() + "".join(self.flows)
        self.nodes, self.flows = outer_nodes, outer_flows
        self.nodes.append(("subProcess", sub_id, inner))
        return sub_id

    def _compensated(self, block: Compensated, source: str, condition: str | None, default: bool,
                     on_path: bool) -> str:
        task_id = self._task(block.task, source, condition, default, on_path)
        boundary, handler = self.next_id("compensation"), self.next_id("undo")
        # boundary events, handlers and associations are no flow nodes of the path: raw XML of the scope
        self.flows += [f'<bpmn:boundaryEvent id="{boundary}" attachedToRef="{task_id}">'
                       "<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>",
                       f'<bpmn:task id="{handler}" isForCompensation="true"/>',
                       f'<bpmn:association id="{boundary}_to_{handler}" sourceRef="{boundary}" targetRef="{handler}"/>']
        throw = self._node("intermediateThrowEvent", "throw", task_id, None, False, on_path)
        index = next(i for i, node in enumerate(self.nodes) if node[1] == throw)
        self.nodes[index] = ("intermediateThrowEvent", throw, f'<bpmn:compensateEventDefinition activityRef="{task_id}"/>')
        if on_path:
            self.expected += [boundary, handler]
        return throw

    def _nodes_xml(self) -> str:
        nodes = []
        for tag, node_id, body in self.nodes:
            default = f' default="{self.defaults[node_id]}"' if node_id in self.defaults else ""
            nodes.append(f'<bpmn:{tag} id="{node_id}"{default}>{body}</bpmn:{tag}>')
        return "".join(nodes)

    def tail(self, tail: Tail, source: str, on_path: bool) -> None:
        block = tail.split
        kind = "exclusiveGateway" if isinstance(block, Exclusive) else "parallelGateway"
        split = self._node(kind, "split", source, None, False, on_path)
        for index, branch in enumerate(block.branches):
            branch_condition, branch_default, taken = self._branch(block, split, index, on_path)
            end = self.next_id("end")
            if branch is None:
                self.flow(split, end, branch_condition, default=branch_default)
            else:
                exit_id = self.render(branch, split, branch_condition, branch_default, taken)
                self.flow(exit_id, end)
            self.nodes.append(("endEvent", end, ""))
            if taken:
                self.expected.append(end)

    def _branch(self, block: Exclusive | Parallel, split: str, index: int, on_path: bool
                ) -> tuple[str | None, bool, bool]:
        """The condition, default flag and whether it is taken, of a branch out of ``split``."""
        if isinstance(block, Parallel):
            return None, False, on_path
        variable = f"x_{split}"
        if index == 0:
            self.variables[variable] = _value(block, block.chosen)
        if index == block.default:
            return None, True, on_path and index == block.chosen
        literal = f'"b{index}"' if block.strings else str(index)
        return f"= {variable} = {literal}", False, on_path and index == block.chosen

    def _node(self, kind: str, prefix: str, source: str, condition: str | None, default: bool,
              on_path: bool) -> str:
        node_id = self.next_id(prefix)
        self.flow(source, node_id, condition, default=default)
        self.nodes.append((kind, node_id, ""))
        if on_path:
            self.expected.append(node_id)
        return node_id

    def _task(self, task: Task, source: str, condition: str | None, default: bool, on_path: bool) -> str:
        node_id = self.next_id(task.kind.lower())
        extensions = []
        if task.job_type is not None:
            self.job_types.add(task.job_type)
            self.service_tasks += 1
            job_type = f'="{task.job_type}"' if task.job_type_expression else task.job_type
            extensions.append(f'<zeebe:taskDefinition type="{_escape(job_type)}" retries="{task.retries}"/>')
        if task.io_mapping:
            local, output = f"in_{node_id}", f"out_{node_id}"
            extensions.append(f'<zeebe:ioMapping><zeebe:input source="=base + 1" target="{local}"/>'
                              f'<zeebe:output source="={local} * 2" target="{output}"/></zeebe:ioMapping>')
            if on_path:
                self.outputs[output] = (self.base + 1) * 2
        body = f"<bpmn:extensionElements>{''.join(extensions)}</bpmn:extensionElements>" if extensions else ""
        self.flow(source, node_id, condition, default=default)
        self.nodes.append((task.kind, node_id, body))
        if on_path:
            self.expected.append(node_id)
        return node_id

    def xml(self, process_id: str) -> bytes:
        return (f'{_HEAD}<bpmn:process id="{process_id}" isExecutable="true">{self._nodes_xml()}'
                f'{"".join(self.flows)}</bpmn:process></bpmn:definitions>').encode()


def _value(block: Exclusive, index: int) -> Any:
    """The variable value that chooses branch ``index`` (for the default: one no condition matches)."""
    if index == block.default:
        index = len(block.branches)  # matches no condition
    return f"b{index}" if block.strings else index


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def render(body: Block, tail: Tail | None, *, base: int, process_id: str = "generated") -> GeneratedProcess:
    renderer = _Renderer(base=base)
    renderer.nodes.append(("startEvent", "start", ""))
    renderer.expected.append("start")
    exit_id = renderer.render(body, "start", None, False, True)
    if tail is None:
        renderer.flow(exit_id, "end")
        renderer.nodes.append(("endEvent", "end", ""))
        renderer.expected.append("end")
    else:
        renderer.tail(tail, exit_id, True)
    return GeneratedProcess(
        process_id=process_id, xml=renderer.xml(process_id), variables={"base": base, **renderer.variables},
        expected_elements=renderer.expected, job_types=sorted(renderer.job_types),
        service_tasks=renderer.service_tasks, expected_outputs=renderer.outputs, timers=renderer.timers, body=body,
        tail=tail)


# -- strategies ----------------------------------------------------------------------------------

@st.composite
def tasks(draw: st.DrawFn) -> Task:
    kind = draw(st.sampled_from(_TASK_KINDS))
    io_mapping = draw(st.integers(0, 3)) == 0
    if kind != "serviceTask":
        return Task(kind, io_mapping=io_mapping)
    return Task(kind, job_type=draw(st.sampled_from(JOB_TYPES)), job_type_expression=draw(st.booleans()),
                retries=draw(st.integers(1, 3)), io_mapping=io_mapping)


@st.composite
def _branches(draw: st.DrawFn, depth: int, budget: list[int]) -> tuple[Block | None, ...]:
    count = draw(st.integers(2, 3))
    # an empty branch (a flow straight from the split to the merge) one time in five
    return tuple(None if draw(st.integers(0, 4)) == 0 else draw(blocks(depth + 1, budget)) for _ in range(count))


@st.composite
def _exclusive(draw: st.DrawFn, branches: tuple[Block | None, ...]) -> Exclusive:
    return Exclusive(branches, default=draw(st.integers(0, len(branches) - 1)),
                     chosen=draw(st.integers(0, len(branches) - 1)), strings=draw(st.booleans()))


@st.composite
def blocks(draw: st.DrawFn, depth: int = 0, budget: list[int] | None = None) -> Block:
    """A block nested ``depth`` deep; ``budget`` holds the tasks the whole process may still have.
    Gateway blocks are likelier near the top, so most processes nest."""
    budget = [MAX_TASKS] if budget is None else budget
    kinds = ["task", "task", "timer", "compensated"]
    if depth < MAX_DEPTH and budget[0] > 1:
        kinds += ["exclusive", "parallel", "sequence", "sub_process"] if depth < 2 else ["exclusive", "parallel"]
    kind = draw(st.sampled_from(kinds))
    if kind == "task":
        budget[0] -= 1
        return draw(tasks())
    if kind == "timer":
        return Timer(draw(st.integers(1, 30)))
    if kind == "compensated":
        budget[0] -= 1
        return Compensated(draw(tasks()))
    if kind == "sub_process":
        return SubProcess(draw(blocks(depth + 1, budget)))
    if kind == "sequence":
        return _sequence(draw, depth, budget)
    branches = draw(_branches(depth, budget))
    if kind == "exclusive":
        return draw(_exclusive(branches))
    return Parallel(branches)


def _sequence(draw: st.DrawFn, depth: int, budget: list[int]) -> Block:
    inner = [draw(blocks(depth + 1, budget)) for _ in range(draw(st.integers(1, 3)))]
    return inner[0] if len(inner) == 1 else Sequence(tuple(inner))


@st.composite
def processes(draw: st.DrawFn) -> GeneratedProcess:
    budget = [MAX_TASKS]
    body = _sequence(draw, 0, budget)
    tail = None
    if draw(st.integers(0, 3)) == 0:
        branches = draw(_branches(1, budget))
        tail = Tail(draw(_exclusive(branches)) if draw(st.booleans()) else Parallel(branches))
    return render(body, tail, base=draw(st.integers(-1000, 1000)))
