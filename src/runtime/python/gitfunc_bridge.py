"""Blocking requests from a running script to the server thread (see runtime/bridge/).

The worker installs its transport once; `request(op, args)` sends the op and JSON args, waits
for the server's answer and returns its value. When the call's deadline passes during the
wait, the transport raises KeyboardInterrupt, as any interrupted Python code would.
"""

import json

_transport = None


class BridgeError(RuntimeError):
    """The server refused or failed a request (bad argument, unknown op)."""


def set_transport(transport):
    """Installed by the worker: transport(op, args_json) -> answer JSON string."""
    global _transport
    _transport = transport


def request(op, args):
    """Runs `op` in the server thread with JSON-able `args`; returns its JSON answer value."""
    if _transport is None:
        raise BridgeError("no server bridge in this interpreter")
    answer = json.loads(_transport(op, json.dumps(args, ensure_ascii=False)))
    outcome = answer["outcome"]
    if outcome == "ok":
        return answer.get("value")
    if outcome == "timeout":
        raise TimeoutError("the server did not answer %s within %s ms" % (op, answer["ms"]))
    raise BridgeError(answer["error"])
