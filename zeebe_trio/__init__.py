"""zeebe-trio: an event-sourced BPMN workflow engine on Trio that speaks Zeebe 8's gRPC gateway protocol."""

__version__ = "0.1.0"
