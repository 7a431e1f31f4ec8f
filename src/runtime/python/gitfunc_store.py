"""`DFF.STORE`: DataFlux Func's simple persistent store, shared by every worker.

Values are anything JSON holds, read back as written (a tuple comes back as a list). Keys live
in a scope, by default the calling script's id. The entries live in the server's data dir, so
they survive restarts; each operation is one blocking request over the bridge (gitfunc_bridge).
"""

import json
import sys

import gitfunc_bridge
from gitfunc_scoped_keys import checked_key as _key, expires_ms as _expires_ms, scope_of as _scope


def _encode(value):
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise TypeError("DFF.STORE values must be JSON-serializable: %s" % error) from None


def _decode(value_json):
    return None if value_json is None else json.loads(value_json)


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
