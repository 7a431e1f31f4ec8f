"""A function auth's call (CONTRACT section 12): the request as ``req``, the answer a truth value.

The server runs the function named by ``apiAuths[].func`` with origin ``apiAuth`` (see
invocation/invoker.ts). It gets the request as ``req`` when it takes that argument (or
``**kwargs``), and as ``_DFF_HTTP_REQUEST`` in any case, as DFF's auth functions do; header
names are looked up in any case. A true return value admits the call, a false one refuses it.
"""

import inspect

ORIGIN = "apiAuth"


class Headers(dict):
    """Request headers whose names are looked up in any case (stored lower case, as Node gives them)."""

    def __init__(self, headers):
        super().__init__((_name(key), value) for key, value in headers.items())

    def __getitem__(self, name):
        return super().__getitem__(_name(name))

    def __setitem__(self, name, value):
        super().__setitem__(_name(name), value)

    def __delitem__(self, name):
        super().__delitem__(_name(name))

    def __contains__(self, name):
        return super().__contains__(_name(name))

    def get(self, name, default=None):
        return super().get(_name(name), default)

    def pop(self, name, *default):
        return super().pop(_name(name), *default)


def _name(name):
    return name.lower() if isinstance(name, str) else name


def kwargs_for(func, request):
    """The auth function's kwargs; makes ``request``'s headers case-insensitive in place."""
    if isinstance(request, dict) and isinstance(request.get("headers"), dict):
        request["headers"] = Headers(request["headers"])
    return {"req": request} if _takes_req(func) else {}


def _takes_req(func):
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # no signature to read: call it without arguments
        return False
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return any(p.kind is inspect.Parameter.VAR_KEYWORD or (p.name == "req" and p.kind in named) for p in parameters)


def answer(result):
    """(kind, body) of the call: JSON ``true`` for a true value, ``false`` for a false one."""
    return "json", "true" if result else "false"
