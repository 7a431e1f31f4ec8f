"""`select.select` over gitfunc sockets (CONTRACT section 10): urllib3 checks a pooled
connection with it before reusing it, non-blocking clients wait with it."""

import errno
import math
import select

from gitfunc_sleep import nap
from gitfunc_socket import HostSocket, answer_wait_ms, host_request, host_timeout_ms, sockets_by_fd

_std_select = select.select


def _as_socket(item):
    if isinstance(item, HostSocket):
        return item
    number = item if isinstance(item, int) else getattr(item, "fileno", lambda: None)()
    return sockets_by_fd.get(number) if isinstance(number, int) else None


def _is_nap(timeout):
    """A timeout select accepts as it is: None, or a non-negative int or float (others raise there)."""
    return timeout is None or (isinstance(timeout, (int, float)) and timeout >= 0)


def host_select(rlist, wlist, xlist, timeout=None):
    """select.select for gitfunc sockets: readable once data, the end or an error is there;
    always writable (the server buffers writes). Other objects go to the original select.
    With nothing to watch, it sleeps for `timeout` (None: until the call's deadline)."""
    everything = list(rlist) + list(wlist) + list(xlist)
    if not everything and _is_nap(timeout):
        nap(math.inf if timeout is None else float(timeout))
        return [], [], []
    mine = [_as_socket(item) for item in everything]
    if not any(mine):
        return _std_select(rlist, wlist, xlist, timeout)
    if not all(mine):
        raise OSError(errno.EINVAL, "select cannot mix gitfunc sockets with other files")
    writable = [item for item in wlist if not _as_socket(item)._closed]
    waiting = [(item, _as_socket(item)) for item in rlist]
    # Closed sockets and those known to be at their end read at once.
    readable = [item for item, sock in waiting if sock._id is None or sock._at_eof]
    open_ones = [(item, sock) for item, sock in waiting if sock._id is not None and not sock._at_eof]
    if open_ones and not readable:
        wait = 0 if writable else timeout
        answer = host_request(
            "net.poll",
            {"ids": [sock._id for _, sock in open_ones], "timeoutMs": host_timeout_ms(wait)},
            answer_wait_ms(wait),
        )
        ready = set(answer["readable"])
        readable = [item for item, sock in open_ones if sock._id in ready]
    return readable, writable, []
