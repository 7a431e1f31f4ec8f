"""Arguments DFF.CACHE and DFF.STORE read alike: a scope (the calling script's by default), a
key and an expiry in seconds."""


def scope_of(scope, frame):
    """`scope`, or the script id (`__name__`) of the code running in `frame` when None."""
    if scope is None:
        return frame.f_globals.get("__name__", "")
    if not isinstance(scope, str):
        # DFF 6 orders set's parameters (key, value, expires, not_exists, ..., scope): a number
        # here is most likely an expiry given by position.
        raise TypeError("scope must be a string, got %s (give the expiry by name: expires=...)" % type(scope).__name__)
    return scope


def checked_key(key):
    if not isinstance(key, str) or not key:
        raise TypeError("key must be a non-empty string")
    return key


def expires_ms(expires, expire):
    """`expires` (or DFF's older spelling `expire`) in milliseconds, None for no expiry."""
    seconds = expires if expires is not None else expire
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ValueError("expires must be a positive number of seconds, got %r" % (seconds,))
    return int(seconds * 1000)
