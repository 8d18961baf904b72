"""Records, value types, intents, keys and their encoding. Depends on nothing else in zeebe_trio."""

from ._codec import RecordDecodeError, decode_batch, encode_batch
from ._correlation import correlation_key_hash, partition_for_correlation_key
from ._enums import (
    BpmnElementType,
    ErrorType,
    PartitionHealth,
    PartitionRole,
    RecordType,
    RejectionType,
    ValueType,
)
from ._intents import (
    INTENTS_BY_VALUE_TYPE,
    AdHocSubProcessInstructionIntent,
    CompensationSubscriptionIntent,
    DeploymentIntent,
    ErrorIntent,
    EscalationIntent,
    IncidentIntent,
    Intent,
    JobBatchIntent,
    JobIntent,
    MessageBatchIntent,
    MessageCorrelationIntent,
    MessageIntent,
    MessageStartEventSubscriptionIntent,
    MessageSubscriptionIntent,
    ProcessEventIntent,
    ProcessInstanceBatchIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    ProcessInstanceResultIntent,
    ProcessIntent,
    ProcessMessageSubscriptionIntent,
    SignalIntent,
    SignalSubscriptionIntent,
    TimerIntent,
    UserTaskIntent,
    VariableDocumentIntent,
    VariableIntent,
    intent_for,
)
from ._keys import KEY_BITS, MAX_PARTITION_ID, PARTITION_BITS, encode_key, first_key, local_part, partition_of
from ._record import DEFAULT_TENANT, NO_KEY, Record
from ._values import (
    BINARY_FIELDS,
    EXCERPT_LIMIT,
    MAX_VALUE_DEPTH,
    command_value_problem,
    excerpt,
    value_problem,
)
from ._wire import (
    DEFAULT_MAX_FRAME_SIZE,
    GATEWAY_COMMANDS,
    HTTP2_PREFACE,
    NONCE_SIZE,
    WIRE_VERSION,
    FrameDecoder,
    MessageType,
    WireError,
    auth_proof,
    encode_frame,
    foreign_protocol,
    foreign_server_protocol,
    refusal_for,
)

__all__ = [
    "correlation_key_hash",
    "partition_for_correlation_key",
    "DEFAULT_TENANT", "BINARY_FIELDS", "EXCERPT_LIMIT", "MAX_VALUE_DEPTH", "command_value_problem", "excerpt",
    "value_problem",
    "BpmnElementType", "DEFAULT_MAX_FRAME_SIZE", "DeploymentIntent", "ErrorIntent", "ErrorType",
    "FrameDecoder", "GATEWAY_COMMANDS", "HTTP2_PREFACE", "NONCE_SIZE", "INTENTS_BY_VALUE_TYPE", "IncidentIntent", "Intent", "JobBatchIntent", "JobIntent",
    "KEY_BITS", "MAX_PARTITION_ID", "MessageIntent", "MessageType", "NO_KEY", "PARTITION_BITS",
    "PartitionHealth", "PartitionRole", "ProcessInstanceCreationIntent", "ProcessInstanceIntent",
    "ProcessInstanceResultIntent", "ProcessIntent", "Record", "RecordDecodeError", "RecordType",
    "RejectionType", "SignalIntent", "TimerIntent", "ValueType", "VariableDocumentIntent", "VariableIntent",
    "WIRE_VERSION", "WireError", "auth_proof", "decode_batch", "encode_batch", "encode_frame", "encode_key", "foreign_protocol", "foreign_server_protocol", "first_key", "refusal_for",
    "intent_for", "local_part", "partition_of",
    "CompensationSubscriptionIntent", "EscalationIntent", "MessageBatchIntent", "MessageCorrelationIntent",
    "MessageStartEventSubscriptionIntent", "MessageSubscriptionIntent", "ProcessEventIntent",
    "ProcessInstanceBatchIntent", "ProcessMessageSubscriptionIntent", "SignalSubscriptionIntent", "UserTaskIntent",
    "AdHocSubProcessInstructionIntent",
]
