"""`DFF.CONN(id)` for a mysql or postgresql connector: DataFlux Func's SQL helper methods.

The helper fills `?` placeholders from `sql_params` as DFF does (below), sends the finished
statement to the connector's pool in the server thread, and turns the rows it answers back
into DFF's values: dicts (or lists, `query_raw`), with datetime, date, Decimal, int and bytes
where the database has them.

Placeholders, as DFF's helpers fill them:
- `?` takes the next parameter, quoted: None is NULL, True/False are TRUE/FALSE, numbers as
  written, strings quoted and escaped, other values (dates, Decimal) quoted as their text;
  a list, tuple or set is its quoted items joined with ', ' (for `IN (?)`), a nested one a
  parenthesised group (for `VALUES ?`); a dict is `key = value, ...` (for `SET ?`).
- `??` takes the next parameter unquoted (a table or column name).
- three or more `?` in a row, and placeholders after the last parameter, stay as written.
- a single parameter that is not a list or tuple counts as a list of one; with no
  parameters the statement is sent as it is.
"""

import base64
import datetime
import decimal
import re

from gitfunc_connector_bridge import run

_PLACEHOLDERS = re.compile(r"\?+")
_MYSQL_ESCAPES = {"\0": "\\0", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1a": "\\Z", '"': '\\"', "'": "\\'", "\\": "\\\\"}
_MYSQL_SPECIAL = re.compile("[\0\b\t\n\r\x1a\"'\\\\]")


def _quote_mysql(text):
    return "'" + _MYSQL_SPECIAL.sub(lambda m: _MYSQL_ESCAPES[m.group()], text) + "'"


def _quote_postgresql(text):
    # standard_conforming_strings is on (PostgreSQL's default): only the quote is special.
    return "'" + text.replace("'", "''") + "'"


def _bytes_mysql(data):
    return "X'" + data.hex() + "'"


def _bytes_postgresql(data):
    return "'\\x" + data.hex() + "'::bytea"


class _Dialect:
    def __init__(self, quote, quote_bytes):
        self.quote = quote
        self.quote_bytes = quote_bytes

    def literal(self, value):
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, (bytes, bytearray)):
            return self.quote_bytes(bytes(value))
        return self.quote(value if isinstance(value, str) else str(value))

    def expand(self, param):
        if isinstance(param, dict):
            return ", ".join("%s = %s" % (key, self.literal(value)) for key, value in param.items())
        if isinstance(param, (list, tuple, set, frozenset)):
            items = []
            for item in param:
                if isinstance(item, (list, tuple, set, frozenset)):
                    items.append("(" + ", ".join(self.literal(v) for v in item) + ")")
                else:
                    items.append(self.literal(item))
            return ", ".join(items)
        return self.literal(param)

    def format(self, sql, sql_params=None):
        """`sql` with its placeholders filled from `sql_params` (see the module's doc)."""
        if not isinstance(sql, str):
            raise TypeError("sql must be a string, got %s" % type(sql).__name__)
        if sql_params is None or (isinstance(sql_params, (list, tuple)) and len(sql_params) == 0):
            return sql
        params = list(sql_params) if isinstance(sql_params, (list, tuple)) else [sql_params]
        parts = []
        done = 0
        used = 0
        for match in _PLACEHOLDERS.finditer(sql):
            if used >= len(params):
                break
            marks = match.group()
            if len(marks) > 2:
                continue
            param = params[used]
            used += 1
            parts.append(sql[done : match.start()])
            parts.append(str(param) if marks == "??" else self.expand(param))
            done = match.end()
        parts.append(sql[done:])
        return "".join(parts)


MYSQL = _Dialect(_quote_mysql, _bytes_mysql)
POSTGRESQL = _Dialect(_quote_postgresql, _bytes_postgresql)


# --- values the server sends as text, by the column kind it names -------------------------

_SHORT_OFFSET = re.compile(r"([+-]\d\d)$")


def _iso(text):
    # PostgreSQL writes an offset of whole hours as +02; Python wants +02:00.
    return _SHORT_OFFSET.sub(r"\1:00", text)


def _datetime(text):
    try:
        return datetime.datetime.fromisoformat(_iso(text))
    except ValueError:  # a zero date, infinity, a year past 9999: kept as the database wrote it
        return text


def _date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return text


def _time(text):
    try:
        return datetime.time.fromisoformat(_iso(text))
    except ValueError:
        return text


def _timedelta(text):
    """A MySQL TIME ('-838:59:59.5') as a timedelta, as pymysql gives it."""
    match = re.fullmatch(r"(-)?(\d+):(\d\d):(\d\d)(?:\.(\d+))?", text)
    if match is None:
        return text
    sign, hours, minutes, seconds, fraction = match.groups()
    value = datetime.timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds), microseconds=int((fraction or "0").ljust(6, "0")[:6]))
    return -value if sign else value


def _bytes(text):
    return base64.b64decode(text)


_CONVERTERS = {
    "datetime": _datetime,
    "date": _date,
    "time": _time,
    "timedelta": _timedelta,
    "decimal": decimal.Decimal,
    "int": int,
    "bytes": _bytes,
}


def _rows(answer):
    """Rows as lists of Python values, and the column names."""
    converters = [_CONVERTERS.get(kind) for kind in answer["kinds"]]
    rows = answer["rows"]
    if any(converters):
        for row in rows:
            for i, convert in enumerate(converters):
                if convert is not None and row[i] is not None:
                    row[i] = convert(row[i])
    return rows, answer["columns"]


def _as_dicts(answer):
    rows, columns = _rows(answer)
    return [dict(zip(columns, row)) for row in rows]


def _as_lists(answer):
    rows, _ = _rows(answer)
    return rows


class SQLTransaction:
    """What `start_trans()` returns: pass it to the helper's trans_* methods, commit and rollback
    (DFF's way), or call the same methods on it. Its connection is the server's until it is
    committed or rolled back, or the call ends (then it is rolled back)."""

    def __init__(self, helper, handle):
        self._helper = helper
        self.handle = handle

    def query(self, sql, sql_params=None):
        return self._helper.trans_query(self, sql, sql_params)

    def query_raw(self, sql, sql_params=None):
        return _as_lists(self._helper._run("transQuery", self.handle, self._helper._format(sql, sql_params)))

    def non_query(self, sql, sql_params=None):
        return self._helper.trans_non_query(self, sql, sql_params)

    trans_query = query
    trans_non_query = non_query

    def commit(self):
        return self._helper.commit(self)

    def rollback(self):
        return self._helper.rollback(self)

    def __enter__(self):
        return self

    def __exit__(self, error_type, error, traceback):
        if error_type is None:
            self.commit()
        else:
            self.rollback()
        return False


def _handle(trans_conn):
    if not isinstance(trans_conn, SQLTransaction):
        raise TypeError("expected the transaction start_trans() returned, got %s" % type(trans_conn).__name__)
    return trans_conn.handle


class SQLHelper:
    """DFF's MySQLHelper / PostgreSQLHelper methods over one connector."""

    dialect = MYSQL

    def __init__(self, connector_id):
        self.connector_id = connector_id

    def __repr__(self):
        return "<%s %r>" % (type(self).__name__, self.connector_id)

    def _run(self, op, *args):
        return run(self.connector_id, op, args)

    def _format(self, sql, sql_params):
        return self.dialect.format(sql, sql_params)

    def format_sql(self, sql, sql_params=None):
        """The statement `query` would send, placeholders filled."""
        return self._format(sql, sql_params)

    def check(self):
        """Raises when the database cannot be reached (DFF's check)."""
        self.query("SELECT 1")

    def query(self, sql, sql_params=None):
        """The rows of a statement, as a list of dicts."""
        return _as_dicts(self._run("query", self._format(sql, sql_params)))

    def query_raw(self, sql, sql_params=None):
        """The rows of a statement, as a list of lists in column order."""
        return _as_lists(self._run("query", self._format(sql, sql_params)))

    def non_query(self, sql, sql_params=None):
        """Runs a statement (committed at once); returns the number of rows it changed."""
        return self._run("nonQuery", self._format(sql, sql_params))

    def start_trans(self):
        """Starts a transaction on a connection of its own (see SQLTransaction)."""
        return SQLTransaction(self, self._run("begin")["trans"])

    def trans_query(self, trans_conn, sql, sql_params=None):
        return _as_dicts(self._run("transQuery", _handle(trans_conn), self._format(sql, sql_params)))

    def trans_non_query(self, trans_conn, sql, sql_params=None):
        return self._run("transNonQuery", _handle(trans_conn), self._format(sql, sql_params))

    def commit(self, trans_conn):
        if not trans_conn:  # DFF: nothing to commit
            return None
        self._run("commit", _handle(trans_conn))
        return None

    def rollback(self, trans_conn):
        if not trans_conn:
            return None
        self._run("rollback", _handle(trans_conn))
        return None


class MySQLHelper(SQLHelper):
    dialect = MYSQL


class PostgreSQLHelper(SQLHelper):
    dialect = POSTGRESQL
