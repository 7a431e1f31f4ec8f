"""The one way a connector helper (DFF.CONN) reaches its client in the server thread.

Each helper module (SQL, Redis, DataKit/DataWay) shapes DFF's methods and calls `run` with its
client's plain operation; the connection, pool and credentials stay in the server
(src/connectors/connector-client.ts).

The runtime brackets each call with `begin_call` and `end_call`: every request names the
revision the call runs on (the server looks the connector up in it) and when the call's time
is up (no query outlives it); the end of a call lets the server roll back what it left open.
"""

import gitfunc_bridge


class ConnectorError(Exception):
    """A driver's error: its message, and its code in `code` (an errno, SQLSTATE or name)."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


# The running call: its revision id, its deadline (epoch ms, None when unknown), and whether
# it reached a connector (only then is the server told it ended).
_call = {"revision": None, "deadline_ms": None, "used": False}


def begin_call(revision_id, deadline_ms=None):
    """Called by the runtime before a call (or an import check) runs on `revision_id`."""
    _call["revision"] = revision_id
    _call["deadline_ms"] = deadline_ms
    _call["used"] = False


def end_call():
    """Called by the runtime after every call: the server rolls back and returns what it left open."""
    if _call["used"]:
        _call["used"] = False
        gitfunc_bridge.post("conn.endCall", {})
    _call["deadline_ms"] = None


def run(connector_id, op, args):
    """Runs `op(*args)` on the connector `connector_id`; returns the client's JSON answer."""
    _call["used"] = True
    request = {"id": connector_id, "op": op, "args": list(args), "revision": _call["revision"], "deadlineMs": _call["deadline_ms"]}
    try:
        return gitfunc_bridge.request("conn.run", request, gitfunc_bridge.WAIT_UNTIL_DEADLINE)
    except gitfunc_bridge.BridgeError as error:
        if error.data.get("connectorError"):
            raise ConnectorError(str(error), error.data.get("driverCode")) from None
        raise
