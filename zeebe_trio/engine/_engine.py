"""The engine: commands in, events or rejections out.

``Engine`` wires one partition's engine: the event appliers (one per event and record version), the
behaviours, the element processors and the command processors, each handed what it needs. ``process``
handles one command from the log in the caller's state transaction, as a ``Batch``; ``replay`` applies
logged events with the very same appliers.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from zeebe_trio.protocol import BpmnElementType, Record, RecordType, RejectionType, excerpt

from ._batch import Batch
from ._command_processors import CommandProcessors
from ._job_streams import JobStreams
from ._processes import ProcessCache
from .appliers import event_appliers
from .bpmn._stream_processor import BpmnStreamProcessor
from .bpmn.behaviors import (
    CatchEventBehavior,
    DecisionBehavior,
    ElementActivationBehavior,
    EventTriggerBehavior,
    ExpressionBehavior,
    IncidentBehavior,
    JobBehavior,
    MessageSubscriber,
    SignalSubscriber,
    StateTransitionBehavior,
    TimerSubscriber,
    UserTaskBehavior,
    VariableBehavior,
)
from .bpmn.elements import DEFAULT_MAX_PROCESS_DEPTH, element_processors
from .bpmn.elements.containers import AdHocSubProcessProcessor
from .processing import (
    AdHocSubProcessInstructionProcessors,
    CommandDistributionBehavior,
    CommandDistributionProcessors,
    CommandRedistributor,
    DecisionEvaluationProcessors,
    DeploymentProcessors,
    IncidentProcessors,
    JobProcessors,
    MessageProcessors,
    MessageSubscriptionMigrationProcessors,
    MultiInstanceBatchProcessors,
    PendingSubscriptionChecker,
    ProcessInstanceMigrationProcessors,
    ProcessInstanceModificationProcessors,
    ProcessInstanceProcessors,
    ResourceDeletionProcessors,
    SignalProcessors,
    TerminateBatchProcessors,
    TimerProcessors,
    UserTaskProcessors,
    VariableDocumentProcessors,
)
from .state import EngineState

log = logging.getLogger(__name__)

# Element instances (and sequence flows on their way) one flow scope may hold at once. A process that
# multiplies its tokens without end (a parallel fork looping back through an exclusive merge) would
# otherwise fill the log without bound and bury every other command behind its own.
DEFAULT_MAX_ELEMENT_INSTANCES_PER_SCOPE = 10_000


class Engine:
    """Processors and appliers of one partition, over its state.

    ``monotonic`` is a clock in seconds (the broker passes ``time.monotonic``) for the time budget of
    each FEEL evaluation; without it only the step and size budgets apply. It never decides a value,
    only whether an evaluation gives up; giving up is an incident on the log, and replay applies that
    event without evaluating again (``engine.feel._budget``).

    ``max_process_depth`` bounds how deep call activities may nest process instances (Zeebe's
    ``maxProcessDepth``); a call past it is a CALLED_ELEMENT_ERROR incident.

    ``partition_count``: how many partitions the cluster has, for the partition a message's
    correlation key hashes to (its subscriptions are sent there) and the partitions deployments,
    signal broadcasts and resource deletions are distributed to (``processing._distribution``).
    """

    def __init__(self, state: EngineState, *, job_streams: JobStreams | None = None,
                 monotonic: Callable[[], float] | None = None,
                 max_element_instances_per_scope: int = DEFAULT_MAX_ELEMENT_INSTANCES_PER_SCOPE,
                 max_process_depth: int = DEFAULT_MAX_PROCESS_DEPTH, partition_count: int = 1) -> None:
        self.state = state
        self.partition_id = state.partition_id
        self.job_streams = job_streams or JobStreams()
        self.processes = ProcessCache(state)
        state.processes = self.processes
        self.appliers = event_appliers()
        # Configuration (the FEEL clock, the scope limit) only decides what the processors write, and
        # that is on the log: replay never consults it.
        expressions = ExpressionBehavior(monotonic)
        variables = VariableBehavior(expressions)
        incidents = IncidentBehavior()
        jobs = JobBehavior(self.job_streams, incidents, expressions)
        timers = TimerSubscriber(expressions)
        signals = SignalSubscriber(expressions)
        messages = MessageSubscriber(expressions, partition_count)
        catch_events = CatchEventBehavior({"timer": timers, "message": messages, "signal": signals})
        triggers = EventTriggerBehavior(variables, expressions)
        self.decisions = DecisionBehavior(monotonic)
        transitions = StateTransitionBehavior(lambda element_type: bpmn.container(element_type),
                                              max_element_instances_per_scope, catch_events, triggers)
        bpmn = BpmnStreamProcessor(element_processors(transitions, variables, incidents, jobs, expressions, triggers,
                                                      max_process_depth=max_process_depth, signals=signals,
                                                      decisions=self.decisions),
                                   transitions, incidents, jobs, variables)
        self.processors = CommandProcessors()
        timer_processors = TimerProcessors(timers, triggers)
        message_processors = MessageProcessors(messages, triggers, timer_processors.start_instance)
        transitions.root_instance_listeners.append(message_processors)
        activation = ElementActivationBehavior(catch_events)
        # Command distribution to the other partitions (deployments, signals, resource deletions); the
        # redistributor is the leader's retry of what was not acknowledged (run by the partition).
        distribution = CommandDistributionBehavior(partition_count)
        self.redistributor = CommandRedistributor()
        self.pending_subscriptions = PendingSubscriptionChecker()
        deployment = DeploymentProcessors(self.processes, timers, signals,
                                          message_processors.open_start_event_subscriptions,
                                          decisions=self.decisions, distribution=distribution)
        for group in (bpmn, ProcessInstanceProcessors(variables, activation), deployment,
                      JobProcessors(jobs, incidents, variables, triggers), IncidentProcessors(jobs, bpmn.process_retried),
                      VariableDocumentProcessors(variables), timer_processors, message_processors,
                      UserTaskProcessors(expressions), MultiInstanceBatchProcessors(transitions)):
            group.register(self.processors)
        SignalProcessors(triggers, timer_processors.start_instance, distribution).register(self.processors)
        TerminateBatchProcessors().register(self.processors)
        ProcessInstanceModificationProcessors(variables, activation, jobs, incidents, UserTaskBehavior(expressions),
                                              catch_events, transitions.root_instance_listeners).register(self.processors)
        ProcessInstanceMigrationProcessors(catch_events, UserTaskBehavior(expressions)).register(self.processors)
        MessageSubscriptionMigrationProcessors().register(self.processors)
        DecisionEvaluationProcessors(self.decisions).register(self.processors)
        ResourceDeletionProcessors(deployment, timers, signals, distribution=distribution).register(self.processors)
        CommandDistributionProcessors(distribution).register(self.processors)
        ad_hoc = bpmn.processors[BpmnElementType.AD_HOC_SUB_PROCESS]
        assert isinstance(ad_hoc, AdHocSubProcessProcessor)
        AdHocSubProcessInstructionProcessors(ad_hoc).register(self.processors)

    # -- the stream platform's RecordProcessor interface -------------------------------------------

    def commands_to_resend(self) -> list[tuple[int, Record]]:
        """The leader's periodic retry (every ``REDISTRIBUTION_INTERVAL_MS``, the state bound to a read
        transaction): distributions not acknowledged and subscription commands not answered, as
        (receiver partition id, command) for the inter-partition sender."""
        return self.redistributor.retry_cycle(self.state) + self.pending_subscriptions.retry_cycle(self.state)

    def bind(self, txn: Any) -> None:
        self.state.bind(txn)

    def last_processed_position(self) -> int:
        return self.state.last_processed_position

    def discard_caches(self) -> None:
        """After a failed transaction: drop derived data that may describe rolled-back state."""
        self.processes.clear()
        self.decisions.clear()
        self.pending_subscriptions.rescan()
        self.state.forget_derived()

    def apply(self, record: Record) -> None:
        self.appliers.apply(self.state, record)

    def _batch(self, now: int, first_position: int) -> Batch:
        return Batch(self.state, functools.partial(self.appliers.apply, self.state), self.partition_id, now,
                     first_position, self.state.next_key, self.processors.get,
                     self.processors.get_follow_up, self.appliers.table)

    def process(self, command: Record, now: int, first_position: int) -> Batch:
        """Process one command from the log (within the caller's transaction)."""
        self.state.load_key()
        batch = self._batch(now, first_position)
        batch.run(command)
        self._save_positions(command.position, batch)
        watched = PendingSubscriptionChecker.WATCHED
        for record in batch.records:
            if record.value_type in watched:
                self.pending_subscriptions.note(record)
        return batch

    def reject_after_failure(self, command: Record, now: int, first_position: int, error: BaseException) -> Batch:
        """The batch for a command whose processing raised: a rejection only, PROCESSING_ERROR unless the
        error names another (``rejection_type``/``rejection_reason``: a batch too large for the log)."""
        self.state.load_key()
        batch = self._batch(now, first_position)
        batch._source = command.position
        rejection_type = getattr(error, "rejection_type", RejectionType.PROCESSING_ERROR)
        reason = getattr(error, "rejection_reason", None) or (
            f"Expected to process command {command.value_type.name}.{command.intent.name}, but an"
            f" unexpected error occurred: {type(error).__name__}: {excerpt(str(error), 500)}")
        batch.reject(command, rejection_type, reason)
        self._save_positions(command.position, batch)
        return batch

    def _save_positions(self, command_position: int, batch: Batch) -> None:
        self.state.set_last_processed_position(command_position)
        if batch.records:
            self.state.set_last_written_position(batch.records[-1].position)
        self.state.save_key()

    def last_written_position(self) -> int:
        return self.state.last_written_position

    def skip_keys(self, count: int) -> None:
        """Never issue the next ``count`` keys (within the caller's transaction): a repaired log lost
        records that may have issued them."""
        self.state.load_key()
        if count > 0:
            self.state.observe_key(self.state.next_key() + count - 1)
        self.state.save_key()

    def replay(self, events: list[Record], last_processed: int, last_written: int) -> None:
        """Apply logged events (within the caller's transaction) and record how far the log was
        processed; never writes to the log."""
        self.state.load_key()
        for record in events:
            # A rejection repeats its command's key, which a client may have chosen: processing issued
            # no key for it, so replay must not move the generator past it either.
            if record.record_type is not RecordType.COMMAND_REJECTION:
                self.state.observe_key(record.key)
            if record.record_type is RecordType.EVENT:
                self.apply(record)
                if record.value_type in PendingSubscriptionChecker.WATCHED:
                    self.pending_subscriptions.note(record)
        self.state.set_last_processed_position(last_processed)
        self.state.set_last_written_position(last_written)
        self.state.save_key()
