"""`DFF.CACHE`: DataFlux Func's simple cache, one store shared by every worker.

Values are strings, as in DFF (a number is stored as its text and read back as a string).
Keys live in a scope, by default the calling script's id. The store lives in the server
thread; each operation is one blocking request over the bridge (gitfunc_bridge).
"""

import sys

import gitfunc_bridge
from gitfunc_scoped_keys import checked_key as _key, expires_ms as _expires_ms, scope_of as _scope


def _value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value) if isinstance(value, float) else str(value)
    raise TypeError("DFF.CACHE values are strings or numbers, got %s" % type(value).__name__)


class CacheHelper:
    """get / set / incr / delete, with DFF's signatures and return values."""

    def __call__(self, key, scope=None):
        return gitfunc_bridge.request("cache.get", {"scope": _scope(scope, sys._getframe(1)), "key": _key(key)})

    def get(self, key, scope=None):
        """The value as a string, or None."""
        return gitfunc_bridge.request("cache.get", {"scope": _scope(scope, sys._getframe(1)), "key": _key(key)})

    def set(self, key, value, scope=None, expires=None, not_exists=False, expire=None):
        """True once written; None when `not_exists` and the key exists (as redis-py answers)."""
        written = gitfunc_bridge.request(
            "cache.set",
            {
                "scope": _scope(scope, sys._getframe(1)),
                "key": _key(key),
                "value": _value(value),
                "expiresMs": _expires_ms(expires, expire),
                "notExists": bool(not_exists),
            },
        )
        return True if written else None

    def incr(self, key, step=1, scope=None, expires=None, expire=None):
        """Adds `step` (an int) to the key's integer value, 0 if unset; returns the new value."""
        if isinstance(step, bool) or not isinstance(step, int):
            raise TypeError("step must be an int")
        return gitfunc_bridge.request(
            "cache.incr",
            {"scope": _scope(scope, sys._getframe(1)), "key": _key(key), "step": step, "expiresMs": _expires_ms(expires, expire)},
        )

    def delete(self, key, scope=None):
        """1 if the key existed, else 0."""
        return gitfunc_bridge.request("cache.delete", {"scope": _scope(scope, sys._getframe(1)), "key": _key(key)})


CACHE = CacheHelper()
