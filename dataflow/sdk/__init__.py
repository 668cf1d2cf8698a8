"""Client SDK for the gateway's dataflow API (docs/dataflow.md, "SDK").

    from dataflow import Workflow, Input, Output

    wf = Workflow(base_url="http://localhost:8080")

    @wf.function(model="auto")
    def summarize(chunk: Input, summary: Output(max_tokens=100)):
        \"\"\"Summarize the text.\\n{{chunk}}\\nSummary: {{summary}}\"\"\"

    print(summarize(chunk="...").result())
"""

from dataflow.sdk.errors import (
    APIConnectionError,
    APIError,
    CallFailed,
    Cancelled,
    DataflowError,
    VariableTimeout,
)
from dataflow.sdk.function import SemanticFunction
from dataflow.sdk.signature import Input, Output
from dataflow.sdk.variable import SemanticVariable
from dataflow.sdk.workflow import Workflow

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
