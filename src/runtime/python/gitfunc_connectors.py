"""`DFF.CONN(id)` (alias `DFF.SRC`): the helper of a connector the manifest declares.

The revision tells each DFF namespace the type of every connector it declares (never their
settings: those stay in the server); the helper class comes from HELPERS by that type. Each
helper module shapes DFF's methods for its type and reaches the server through
gitfunc_connector_bridge.run; a helper is built as `HelperClass(connector_id)`.
"""

import ast

import gitfunc_conn_datakit
import gitfunc_conn_redis
import gitfunc_conn_sql

# One entry per connector type.
HELPERS = {
    "mysql": gitfunc_conn_sql.MySQLHelper,
    "postgresql": gitfunc_conn_sql.PostgreSQLHelper,
    "redis": gitfunc_conn_redis.RedisHelper,
    "datakit": gitfunc_conn_datakit.DataKitHelper,
    "dataway": gitfunc_conn_datakit.DataWayHelper,
}

# DFF's names for a connector helper.
_CONNECT_NAMES = ("CONN", "SRC")


class ConnectorNotFound(LookupError):
    """DFF.CONN named a connector the manifest does not declare."""


def _declared_text(types):
    return ", ".join(sorted(types)) if types else "none"


def connect(connector_id, types, options=None):
    """A new helper for `connector_id`; `types` maps each declared connector id to its type;
    `options` are the helper's own keyword arguments (a datakit's `source`)."""
    connector_type = types.get(connector_id) if isinstance(connector_id, str) else None
    if connector_type is None:
        raise ConnectorNotFound("no connector %r in gitfunc.yaml (declared: %s)" % (connector_id, _declared_text(types)))
    helper = HELPERS[connector_type]  # the manifest admits only these types
    try:
        return helper(connector_id, **(options or {}))
    except TypeError:
        raise TypeError("DFF.CONN(%r): a %s connector takes no option %s" % (connector_id, connector_type, ", ".join(sorted(options or {})))) from None


def _column(line_text, byte_offset):
    # ast counts columns in UTF-8 bytes; a person counts characters.
    return len(line_text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1


def undeclared_references(path, source, types):
    """Problems {file, line, col, message} for each literal DFF.CONN('x') / DFF.SRC('x') whose
    id no connector declares; a script that does not parse has none (its syntax error says why)."""
    if "DFF.CONN" not in source and "DFF.SRC" not in source:
        return []  # most scripts: no parse needed
    try:
        tree = ast.parse(source, path)
    except (SyntaxError, ValueError):
        return []
    lines = source.splitlines()
    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute)):
            continue
        target = node.func
        if target.attr not in _CONNECT_NAMES or not (isinstance(target.value, ast.Name) and target.value.id == "DFF"):
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)) or first.value in types:
            continue
        line_text = lines[first.lineno - 1] if first.lineno <= len(lines) else ""
        problems.append({
            "file": path,
            "line": first.lineno,
            "col": _column(line_text, first.col_offset),
            "message": "DFF.%s(%r): no connector %r in gitfunc.yaml (declared: %s)" % (target.attr, first.value, first.value, _declared_text(types)),
        })
    return sorted(problems, key=lambda p: (p["line"], p["col"]))
