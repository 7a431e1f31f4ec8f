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


# `wait_ms` of a request that only the call's deadline ends, and of one posted without waiting
# (bridge-client.cts: WAIT_UNTIL_DEADLINE, NO_ANSWER).
WAIT_UNTIL_DEADLINE = -1
_NO_ANSWER = 0


def set_transport(transport):
    """Installed by the worker: transport(op, args_json, wait_ms) -> answer JSON string."""
    global _transport
    _transport = transport


def request(op, args, wait_ms=None):
    """Runs `op` in the server thread with JSON-able `args`; returns its JSON answer value.

    `wait_ms`: how long to wait for the answer (None: the bridge's default, 10 s).
    """
    if _transport is None:
        raise BridgeError("no server bridge in this interpreter")
    answer = json.loads(_transport(op, json.dumps(args, ensure_ascii=False), wait_ms))
    if answer["outcome"] == "ok":
        return answer.get("value")
    # An error answer is a GitfuncError's JSON: {code, message, data}.
    error = answer["error"]
    if error["code"] == "BRIDGE_TIMEOUT":
        raise BridgeTimeoutError(error["message"])
    raise BridgeError(error["code"], error["message"], error["data"])


def post(op, args):
    """Sends `op` to the server thread without waiting: it runs after every earlier request."""
    if _transport is None:
        raise BridgeError("no server bridge in this interpreter")
    _transport(op, json.dumps(args, ensure_ascii=False), _NO_ANSWER)
