"""The one way a connector helper (DFF.CONN) reaches its client in the server thread.

Each helper module (SQL, Redis, DataKit/DataWay) shapes DFF's methods and calls `run` with its
client's plain operation; the connection, pool and credentials stay in the server
(src/connectors/connector-client.ts).
"""

import gitfunc_bridge


class ConnectorError(Exception):
    """A driver's error: its message, and its code in `code` (an errno, SQLSTATE or name)."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


def run(connector_id, op, args):
    """Runs `op(*args)` on the connector `connector_id`; returns the client's JSON answer."""
    try:
        return gitfunc_bridge.request("conn.run", {"id": connector_id, "op": op, "args": list(args)}, gitfunc_bridge.WAIT_UNTIL_DEADLINE)
    except gitfunc_bridge.BridgeError as error:
        if error.data.get("connectorError"):
            raise ConnectorError(str(error), error.data.get("driverCode")) from None
        raise
