"""`DFF.CTX`: a key-value context that lives for one call (DataFlux Func's FuncContextHelper).

Code called during the same call (helpers in other scripts, for example) shares it; the next
call starts empty.
"""

import copy


class CallContext:
    """Values set during the current call; `get` returns copies, as DFF does."""

    def __init__(self):
        self._data = {}

    def __call__(self, key):
        return self.get(key)

    def has(self, key):
        return key in self._data

    def get(self, key):
        return copy.deepcopy(self._data.get(key))

    def get_all(self):
        return copy.deepcopy(self._data)

    def set(self, key, value):
        self._data[key] = value

    def delete(self, key):
        return self._data.pop(key, None)

    def clear(self):
        self._data.clear()

    def reset(self):
        """Called by the runtime before each call."""
        if self._data:
            self._data = {}


CTX = CallContext()
