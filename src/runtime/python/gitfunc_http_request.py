"""`_DFF_HTTP_REQUEST`: the request of an API call, as a script reads it.

Its `headers` are looked up in any case, as HTTP header names are meant to be
(`headers["X-Token"]` finds `x-token`); they stay a dict, so scripts may iterate, copy or
`json.dumps` them as before.
"""

import json


def _lower(name):
    return name.lower() if isinstance(name, str) else name


class Headers(dict):
    """Header names kept lower-case (as Node gives them), looked up in any case."""

    __slots__ = ()

    def __init__(self, headers=()):
        super().__init__((_lower(name), value) for name, value in dict(headers).items())

    def __getitem__(self, name):
        return dict.__getitem__(self, _lower(name))

    def __setitem__(self, name, value):
        dict.__setitem__(self, _lower(name), value)

    def __delitem__(self, name):
        dict.__delitem__(self, _lower(name))

    def __contains__(self, name):
        return dict.__contains__(self, _lower(name))

    def get(self, name, default=None):
        return dict.get(self, _lower(name), default)

    def pop(self, name, *default):
        return dict.pop(self, _lower(name), *default)

    def setdefault(self, name, default=None):
        return dict.setdefault(self, _lower(name), default)

    def update(self, *others, **more):
        for name, value in dict(*others, **more).items():
            self[name] = value

    def copy(self):
        return Headers(self)


def script_request(request_json):
    """The request sent with a call (JSON, or None outside API calls) as `_DFF_HTTP_REQUEST`."""
    if request_json is None:
        return None
    request = json.loads(request_json)
    request["headers"] = Headers(request.get("headers") or {})
    return request
