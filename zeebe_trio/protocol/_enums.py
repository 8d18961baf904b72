"""Record metadata enums with Zeebe's names and numeric codes (from Zeebe's SBE protocol schema)."""

from __future__ import annotations

import enum


class ValueType(enum.IntEnum):
    """What a record's value describes. Codes are Zeebe's ``ValueType`` codes."""

    JOB = 0
    DEPLOYMENT = 4
    PROCESS_INSTANCE = 5
    INCIDENT = 6
    MESSAGE = 10
    MESSAGE_SUBSCRIPTION = 11
    PROCESS_MESSAGE_SUBSCRIPTION = 12
    JOB_BATCH = 14
    TIMER = 15
    MESSAGE_START_EVENT_SUBSCRIPTION = 16
    VARIABLE = 17
    VARIABLE_DOCUMENT = 18
    PROCESS_INSTANCE_CREATION = 19
    ERROR = 20
    PROCESS_INSTANCE_RESULT = 21
    PROCESS = 22
    DEPLOYMENT_DISTRIBUTION = 23
    PROCESS_EVENT = 24
    DECISION = 25
    DECISION_REQUIREMENTS = 26
    DECISION_EVALUATION = 27
    PROCESS_INSTANCE_MODIFICATION = 28
    ESCALATION = 29
    SIGNAL_SUBSCRIPTION = 30
    SIGNAL = 31
    RESOURCE_DELETION = 32
    COMMAND_DISTRIBUTION = 33
    PROCESS_INSTANCE_BATCH = 34
    MESSAGE_BATCH = 35
    FORM = 36
    USER_TASK = 37
    PROCESS_INSTANCE_MIGRATION = 38
    COMPENSATION_SUBSCRIPTION = 39
    MESSAGE_CORRELATION = 40
    CLOCK = 42
    RESOURCE = 49
    AD_HOC_SUB_PROCESS_INSTRUCTION = 53
    RUNTIME_INSTRUCTION = 59
    CHECKPOINT = 254


class RecordType(enum.IntEnum):
    """Zeebe's ``RecordType``: commands ask, events state facts, rejections refuse commands."""

    EVENT = 0
    COMMAND = 1
    COMMAND_REJECTION = 2


class RejectionType(enum.IntEnum):
    """Why a command was rejected (Zeebe's ``RejectionType``)."""

    INVALID_ARGUMENT = 0
    NOT_FOUND = 1
    ALREADY_EXISTS = 2
    INVALID_STATE = 3
    PROCESSING_ERROR = 4
    EXCEEDED_BATCH_RECORD_SIZE = 5
    UNAUTHORIZED = 6
    FORBIDDEN = 7


class PartitionRole(enum.IntEnum):
    LEADER = 0
    FOLLOWER = 1
    INACTIVE = 2


class PartitionHealth(enum.IntEnum):
    UNHEALTHY = 0
    HEALTHY = 1
    DEAD = 2


class BpmnElementType(enum.Enum):
    """Zeebe's ``BpmnElementType`` names, as they appear in process instance records."""

    # Members are singletons compared by identity, so identity is a valid hash; Enum's own hashes the
    # name in Python code, and the engine looks element types up in dicts on every lifecycle step.
    __hash__ = object.__hash__

    UNSPECIFIED = "UNSPECIFIED"
    PROCESS = "PROCESS"
    SUB_PROCESS = "SUB_PROCESS"
    EVENT_SUB_PROCESS = "EVENT_SUB_PROCESS"
    START_EVENT = "START_EVENT"
    INTERMEDIATE_CATCH_EVENT = "INTERMEDIATE_CATCH_EVENT"
    INTERMEDIATE_THROW_EVENT = "INTERMEDIATE_THROW_EVENT"
    BOUNDARY_EVENT = "BOUNDARY_EVENT"
    END_EVENT = "END_EVENT"
    SERVICE_TASK = "SERVICE_TASK"
    RECEIVE_TASK = "RECEIVE_TASK"
    USER_TASK = "USER_TASK"
    MANUAL_TASK = "MANUAL_TASK"
    TASK = "TASK"
    EXCLUSIVE_GATEWAY = "EXCLUSIVE_GATEWAY"
    INCLUSIVE_GATEWAY = "INCLUSIVE_GATEWAY"
    PARALLEL_GATEWAY = "PARALLEL_GATEWAY"
    EVENT_BASED_GATEWAY = "EVENT_BASED_GATEWAY"
    SEQUENCE_FLOW = "SEQUENCE_FLOW"
    MULTI_INSTANCE_BODY = "MULTI_INSTANCE_BODY"
    CALL_ACTIVITY = "CALL_ACTIVITY"
    BUSINESS_RULE_TASK = "BUSINESS_RULE_TASK"
    SCRIPT_TASK = "SCRIPT_TASK"
    SEND_TASK = "SEND_TASK"
    AD_HOC_SUB_PROCESS = "AD_HOC_SUB_PROCESS"
    # One per activated element of an ad-hoc subprocess: the scope that element runs in.
    AD_HOC_SUB_PROCESS_INNER_INSTANCE = "AD_HOC_SUB_PROCESS_INNER_INSTANCE"


class ErrorType(enum.Enum):
    """Zeebe's incident ``ErrorType`` names."""

    UNKNOWN = "UNKNOWN"
    IO_MAPPING_ERROR = "IO_MAPPING_ERROR"
    JOB_NO_RETRIES = "JOB_NO_RETRIES"
    EXECUTION_LISTENER_NO_RETRIES = "EXECUTION_LISTENER_NO_RETRIES"
    CONDITION_ERROR = "CONDITION_ERROR"
    EXTRACT_VALUE_ERROR = "EXTRACT_VALUE_ERROR"
    CALLED_ELEMENT_ERROR = "CALLED_ELEMENT_ERROR"
    UNHANDLED_ERROR_EVENT = "UNHANDLED_ERROR_EVENT"
    MESSAGE_SIZE_EXCEEDED = "MESSAGE_SIZE_EXCEEDED"
    CALLED_DECISION_ERROR = "CALLED_DECISION_ERROR"
    DECISION_EVALUATION_ERROR = "DECISION_EVALUATION_ERROR"
    FORM_NOT_FOUND = "FORM_NOT_FOUND"
    RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
