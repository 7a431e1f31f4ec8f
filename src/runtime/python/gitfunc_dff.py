"""The `DFF` object scripts see: `@DFF.API(...)`, `DFF.ENV(...)`, and result encoding.

Mirrors DataFlux Func's decorator options (CONTRACT section 2); a bad option value raises
DFFConfigError at import, which makes the whole revision fail to load. Response control
(`DFF.RESP`, `DFF.RESP_FILE`, `DFF.RESP_LARGE_DATA`, `DFF.REDIRECT`), `DFF.CACHE` and
`DFF.CTX` live in their own modules and are attached here; DFF's members gitfunc lacks raise
NotImplementedError (gitfunc_dff_members.py).
"""

import datetime
import decimal
import sys

import gitfunc_connectors
from gitfunc_cache import CACHE
from gitfunc_context import CTX
from gitfunc_dff_members import is_unsupported, not_supported
from gitfunc_js_numbers import dumps as _js_dumps, js_float
from gitfunc_response import REDIRECT, RESP, RESP_FILE, RESP_LARGE_DATA
from gitfunc_store import STORE

TIMEOUT_MIN = 1
TIMEOUT_MAX = 3600


class DFFConfigError(Exception):
    """A bad `@DFF.API(...)` option; `position` points at the decorated function."""

    def __init__(self, message, position=None):
        super().__init__(message)
        self.position = position


def _caller_position(depth=2):
    frame = sys._getframe(depth)
    return frame.f_code.co_filename, frame.f_lineno, 1


def _seconds(name, value, low, high, position):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DFFConfigError("@DFF.API %s must be a number of seconds, got %r" % (name, value), position)
    if not low <= value <= high:
        raise DFFConfigError("@DFF.API %s must be between %s and %s seconds, got %r" % (name, low, high, value), position)
    return value


def _first(name, alias, a, b, position):
    if a is not None and b is not None:
        raise DFFConfigError("@DFF.API: give %s or %s, not both" % (name, alias), position)
    return a if a is not None else b


class DFFNamespace:
    """One per revision: holds that revision's environment and function registry."""

    CACHE = CACHE
    CTX = CTX
    RESP = staticmethod(RESP)
    RESP_FILE = staticmethod(RESP_FILE)
    RESP_LARGE_DATA = staticmethod(RESP_LARGE_DATA)
    REDIRECT = staticmethod(REDIRECT)
    STORE = STORE

    def __init__(self, env, register, connectors=None):
        self._env = env
        self._register = register
        # connector id -> type, as the manifest declares them
        self._connectors = connectors or {}

    def CONN(self, connector_id, **options):
        """The helper of a connector the manifest declares (DFF.SRC is the same); `options` as
        DFF takes them (a datakit's `source=`)."""
        return gitfunc_connectors.connect(connector_id, self._connectors, options)

    SRC = CONN

    def __getattr__(self, name):
        """DFF's members it lacks raise NotImplementedError; each member is offered in lower case too, as in DFF."""
        if is_unsupported(name):
            raise not_supported(name)
        if name.islower() and not name.startswith("_"):
            try:
                return getattr(self, name.upper())
            except AttributeError:
                pass
        raise AttributeError("DFF has no member %r" % name)

    def ENV(self, name, default=None):
        """A value of the manifest's `env` block (secrets resolved by the server)."""
        return self._env.get(name, default)

    def API(
        self,
        title,
        category="general",
        tags=None,
        timeout=None,
        api_timeout=None,
        cache_result=None,
        fixed_cron_expr=None,
        fixed_crontab=None,
        delayed_cron_job=None,
        delayed_crontab=None,
        is_hidden=False,
        **ignored_options,
    ):
        """Marks a function as callable from the manifest's APIs and cron jobs."""
        position = _caller_position()
        if not isinstance(title, str) or not title.strip():
            raise DFFConfigError("@DFF.API title must be a non-empty string", position)
        if not isinstance(category, str):
            raise DFFConfigError("@DFF.API category must be a string", position)
        tags = list(tags or [])
        if not all(isinstance(tag, str) for tag in tags):
            raise DFFConfigError("@DFF.API tags must be a list of strings", position)
        # Both given: `timeout` bounds the run and `api_timeout` how long a sync caller waits
        # (CONTRACT section 12); one alone is the run's timeout, as DFF reads it today.
        wait = _seconds("api_timeout", api_timeout, TIMEOUT_MIN, TIMEOUT_MAX, position) if timeout is not None else None
        timeout = _seconds("timeout", timeout if timeout is not None else api_timeout, TIMEOUT_MIN, TIMEOUT_MAX, position)
        cache_result = _seconds("cache_result", cache_result, 0, 86400 * 30, position)
        cron = _first("fixed_cron_expr", "fixed_crontab", fixed_cron_expr, fixed_crontab, position)
        if cron is not None and not isinstance(cron, str):
            raise DFFConfigError("@DFF.API fixed_cron_expr must be a string", position)
        delayed = _first("delayed_cron_job", "delayed_crontab", delayed_cron_job, delayed_crontab, position)
        if delayed is not None:
            delayed = [delayed] if isinstance(delayed, int) and not isinstance(delayed, bool) else delayed
            if not isinstance(delayed, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in delayed):
                raise DFFConfigError("@DFF.API delayed_cron_job must be an int or a list of ints >= 0", position)

        options = {"title": title, "category": category, "tags": tags, "isHidden": bool(is_hidden)}
        if timeout is not None:
            options["timeout"] = timeout
        if wait is not None:
            options["apiTimeout"] = wait
        if cache_result is not None:
            options["cacheResult"] = cache_result
        if cron is not None:
            options["fixedCronExpr"] = cron
        if delayed is not None:
            options["delayedCronJob"] = delayed

        def decorate(func):
            self._register(func, dict(options))
            return func

        return decorate


def _json_default(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


def _dumps(value):
    return _js_dumps(value, _json_default)


def _encode_raw(result):
    """CONTRACT 3: str as itself, numbers as their text (as JavaScript writes them), everything else as JSON."""
    if isinstance(result, str):
        return "text", result
    if isinstance(result, float):
        text = js_float(result)
        # NaN and the infinities: null, as DFF's JSON writes them.
        return ("json", "null") if text is None else ("text", text)
    if isinstance(result, int) and not isinstance(result, bool):
        return "text", str(result)
    return "json", _dumps(result)


def _encode_json_dumps(result):
    return "json", _dumps(result)


RESULT_ENCODERS = {"raw": _encode_raw, "jsonDumps": _encode_json_dumps}
