"""`time.sleep` that blocks the worker without spinning a core, and ends at the call's deadline.

Emscripten's own sleep spins for the whole nap and never sees the interrupt buffer, so a call
sleeping past its deadline held its worker until the worker was terminated. The worker
installs a JS wait (runtime/interruptible-sleep.cts) once per interpreter: it blocks in
Atomics.wait, and raises KeyboardInterrupt when the deadline passes, as an interrupted CPython
sleep does. `select.select` with no sockets naps here too (see gitfunc_select).
"""

import operator
import sys
import time

_std_sleep = time.sleep
_wait = None
# The longest nap CPython accepts (its time type counts nanoseconds in 64 bits).
_LONGEST_SECONDS = (2**63 - 1) // 10**9


def set_waiter(wait):
    """Installed by the worker: wait(ms) blocks for ms milliseconds (Infinity: until the deadline)."""
    global _wait
    _wait = wait


def nap(seconds):
    """Blocks for `seconds` (a float, >= 0; infinity: until the call's deadline)."""
    if _wait is None:
        _std_sleep(seconds)  # no worker around this interpreter (the snapshot being built)
    elif seconds > 0:
        _wait(seconds * 1000)


def sleep(secs):
    """time.sleep: same arguments and errors as CPython's."""
    try:
        seconds = float(secs) if isinstance(secs, float) else operator.index(secs)
    except TypeError:
        seconds = None
    if seconds is None or not 0 <= seconds <= _LONGEST_SECONDS:  # NaN fails the range test too
        # A wrong type, a negative, NaN or too long a nap: CPython's sleep raises its own error
        # at once, before it sleeps.
        return _std_sleep(secs)
    sys.audit("time.sleep", secs)
    nap(seconds)


def install():
    """Replaces `time.sleep`, once per interpreter (kept by the snapshot)."""
    time.sleep = sleep
