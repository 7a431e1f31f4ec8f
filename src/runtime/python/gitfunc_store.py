"""`DFF.STORE`: DataFlux Func's simple persistent store, shared by every worker.

Values are anything JSON holds, read back as written (a tuple comes back as a list). Keys live
in a scope, by default the calling script's id. The entries live in the server's data dir, so
they survive restarts; each operation is one blocking request over the bridge (gitfunc_bridge).
"""

import json
import sys

import gitfunc_bridge


def _scope(scope, frame):
    if scope is None:
        return frame.f_globals.get("__name__", "")
    if not isinstance(scope, str):
        # DFF 6 orders set's parameters (key, value, expires, not_exists, ..., scope): a number
        # here is most likely an expiry given by position.
        raise TypeError("scope must be a string, got %s (give the expiry by name: expires=...)" % type(scope).__name__)
    return scope


def _key(key):
    if not isinstance(key, str) or not key:
        raise TypeError("key must be a non-empty string")
    return key


def _encode(value):
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise TypeError("DFF.STORE values must be JSON-serializable: %s" % error) from None


def _decode(value_json):
    return None if value_json is None else json.loads(value_json)


def _expires_ms(expires, expire):
    seconds = expires if expires is not None else expire
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ValueError("expires must be a positive number of seconds, got %r" % (seconds,))
    return int(seconds * 1000)


class StoreHelper:
    """get / mget / set / keys / delete, with DFF's signatures and return values."""

    def __call__(self, key, scope=None):
        return _decode(gitfunc_bridge.request("store.get", {"scope": _scope(scope, sys._getframe(1)), "key": _key(key)}))

    def get(self, key, scope=None):
        """The value as it was written, or None when absent or expired."""
        return _decode(gitfunc_bridge.request("store.get", {"scope": _scope(scope, sys._getframe(1)), "key": _key(key)}))

    def mget(self, keys, scope=None):
        """{key: value} for every key asked for, None for those absent or expired."""
        keys = [keys] if isinstance(keys, str) else list(keys or [])
        if not keys:
            return {}
        values = gitfunc_bridge.request("store.mget", {"scope": _scope(scope, sys._getframe(1)), "keys": [_key(key) for key in keys]})
        return {key: _decode(value) for key, value in zip(keys, values)}

    def set(self, key, value, scope=None, expires=None, not_exists=False, expire=None):
        """True once written; None when `not_exists` and the key exists (as DFF.CACHE answers)."""
        written = gitfunc_bridge.request(
            "store.set",
            {
                "scope": _scope(scope, sys._getframe(1)),
                "key": _key(key),
                "valueJson": _encode(value),
                "expiresMs": _expires_ms(expires, expire),
                "notExists": bool(not_exists),
            },
        )
        return True if written else None

    def keys(self, pattern="*", scope=None):
        """The scope's keys matching `pattern` (`*` any characters, `?` one), sorted."""
        if not isinstance(pattern, str):
            raise TypeError("pattern must be a string")
        return gitfunc_bridge.request("store.keys", {"scope": _scope(scope, sys._getframe(1)), "pattern": pattern})

    def delete(self, key, scope=None):
        """True if the key existed; deleting an absent key is no error."""
        return gitfunc_bridge.request("store.delete", {"scope": _scope(scope, sys._getframe(1)), "key": _key(key)})


STORE = StoreHelper()
