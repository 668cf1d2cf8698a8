"""Semantic-variable dataflow serving (issue #3).

The server side (graph, template, executor, api) runs inside the gateway;
the client SDK (`dataflow.sdk`) is re-exported here so applications write
`from dataflow import Workflow, Input, Output`.
"""

from dataflow.sdk import (
    APIConnectionError,
    APIError,
    CallFailed,
    Cancelled,
    DataflowError,
    Input,
    Output,
    SemanticFunction,
    SemanticVariable,
    VariableTimeout,
    Workflow,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "CallFailed",
    "Cancelled",
    "DataflowError",
    "Input",
    "Output",
    "SemanticFunction",
    "SemanticVariable",
    "VariableTimeout",
    "Workflow",
]
