"""Blocking requests from a running script to the server thread (see runtime/bridge/).

The worker installs its transport once; `request(op, args)` sends the op and JSON args, waits
for the server's answer and returns its value. When the call's deadline passes during the
wait, the transport raises KeyboardInterrupt, as any interrupted Python code would.
"""

import json

_transport = None


class BridgeError(RuntimeError):
    """The server refused or failed a request (bad argument, unknown op).

    `code` is the server's stable error code (BRIDGE_REFUSED, BRIDGE_FAILED), `data` its details.
    """

    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.data = data or {}


class BridgeTimeoutError(TimeoutError):
    """The server did not answer in time (code BRIDGE_TIMEOUT)."""

    code = "BRIDGE_TIMEOUT"


def set_transport(transport):
    """Installed by the worker: transport(op, args_json) -> answer JSON string."""
    global _transport
    _transport = transport


def request(op, args):
    """Runs `op` in the server thread with JSON-able `args`; returns its JSON answer value."""
    if _transport is None:
        raise BridgeError("no server bridge in this interpreter")
    answer = json.loads(_transport(op, json.dumps(args, ensure_ascii=False)))
    if answer["outcome"] == "ok":
        return answer.get("value")
    # An error answer is a GitfuncError's JSON: {code, message, data}.
    error = answer["error"]
    if error["code"] == "BRIDGE_TIMEOUT":
        raise BridgeTimeoutError(error["message"])
    raise BridgeError(error["code"], error["message"], error["data"])
