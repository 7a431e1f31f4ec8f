"""TCP client sockets for scripts, held by the server (CONTRACT section 10).

Pyodide has no socket layer of its own on Node. `install()` replaces `socket.socket`,
`getaddrinfo` and the name lookups with ones whose every operation is a blocking request to the
server thread (gitfunc_bridge), where Node's `net` opens the connection after the operator's
egress rules allow it. The stdlib built on `socket` (`create_connection`, `http.client`,
`urllib.request`, `smtplib`) and libraries such as urllib3, requests, pymysql and redis then
work unchanged. Listening, UDP and Unix sockets are not offered.

A call's sockets are closed when the call ends (`end_call`); a socket kept in a module global
past its call then fails with EBADF, and clients that check their pooled connections (urllib3,
redis) open a new one.
"""

import base64
import errno
import importlib.util
import itertools
import select
import selectors
import socket
import ssl
import sys
import weakref

import gitfunc_bridge

_std_socket_class = socket.socket

NOT_OFFERED = "gitfunc scripts have TCP client sockets only (no listening, UDP or Unix sockets)"
# A read may wait this long past the socket's own timeout: the server answers TimeoutError first.
_ANSWER_GRACE_MS = 5000
_HOST_TIMEOUT_NONE = -1
# A large sendall travels in pieces this big (base64 in one JSON message each).
_SEND_CHUNK_BYTES = 1024 * 1024
# Bytes a socket may send without waiting for the server (see HostSocket.send).
_UNSYNCED_SEND_BYTES = 4 * 1024 * 1024
# File descriptor numbers of gitfunc sockets, for code that selects on numbers.
_FD_BASE = 100000
_fd_numbers = itertools.count(_FD_BASE)
_sockets_by_fd = weakref.WeakValueDictionary()
# Sockets the current call connected; closed with the call (see end_call).
_call_sockets = weakref.WeakSet()
_call_used_network = False

_ERROR_TYPES = {
    "OSError": OSError,
    "ConnectionRefusedError": ConnectionRefusedError,
    "ConnectionResetError": ConnectionResetError,
    "ConnectionAbortedError": ConnectionAbortedError,
    "BrokenPipeError": BrokenPipeError,
    "PermissionError": PermissionError,
    "SSLError": ssl.SSLError,
    "SSLCertVerificationError": ssl.SSLCertVerificationError,
}


def _script_error(info):
    """The exception CPython would raise for a failure the server reported."""
    kind, message, errno_name = info["type"], info["message"], info.get("errno")
    if kind == "TimeoutError":
        return TimeoutError(message)
    if kind == "gaierror":
        return socket.gaierror(getattr(socket, errno_name or "EAI_NONAME", -2), message)
    number = getattr(errno, errno_name, None) if errno_name else None
    if kind in ("SSLError", "SSLCertVerificationError"):
        error = _ERROR_TYPES[kind](1, message)
        if kind == "SSLCertVerificationError":
            error.verify_code, error.verify_message = 1, message
        return error
    cls = _ERROR_TYPES.get(kind, OSError)
    return cls(number, message) if number is not None else cls(message)


def host_request(op, args, wait_ms=None):
    """A network op in the server thread; raises the script-side exception of a failure."""
    global _call_used_network
    _call_used_network = True
    answer = gitfunc_bridge.request(op, args, wait_ms)
    if "error" in answer:
        raise _script_error(answer["error"])
    return answer


def host_post(op, args):
    """A network op the script does not wait for; it runs before any later request."""
    global _call_used_network
    _call_used_network = True
    gitfunc_bridge.post(op, args)


def _ms(timeout):
    return _HOST_TIMEOUT_NONE if timeout is None else int(timeout * 1000)


def _wait_for(timeout):
    """How long the bridge waits for an op bounded by the socket timeout `timeout`."""
    return gitfunc_bridge.WAIT_UNTIL_DEADLINE if timeout is None else int(timeout * 1000) + _ANSWER_GRACE_MS


class HostSocket:
    """A TCP client socket whose connection lives in the server (see the module doc)."""

    def __init__(self, family=socket.AF_INET, type=socket.SOCK_STREAM, proto=0, fileno=None):
        if fileno is not None:
            raise OSError(errno.EBADF, "gitfunc sockets cannot be made from a file descriptor")
        kind = type & ~(getattr(socket, "SOCK_NONBLOCK", 0) | getattr(socket, "SOCK_CLOEXEC", 0))
        if family not in (socket.AF_INET, socket.AF_INET6) or kind != socket.SOCK_STREAM:
            raise OSError(errno.EAFNOSUPPORT if kind == socket.SOCK_STREAM else errno.EPROTONOSUPPORT, NOT_OFFERED)
        self._family = family
        self._type = kind
        self.proto = proto or socket.IPPROTO_TCP
        self._id = None
        self._fd = next(_fd_numbers)
        _sockets_by_fd[self._fd] = self
        self._timeout = socket.getdefaulttimeout()
        self._closed = False
        self._io_refs = 0
        self._peer = None
        self._local = None
        self._options = {}
        self._unsynced_bytes = 0
        self._at_eof = False

    # --- what the socket is -------------------------------------------------------------
    family = property(lambda self: socket.AddressFamily(self._family))
    type = property(lambda self: socket.SocketKind(self._type))

    def fileno(self):
        return -1 if self._closed else self._fd

    def __repr__(self):
        state = " [closed]" if self._closed else ""
        return "<gitfunc socket%s fd=%d, family=%s, type=%s, laddr=%r, raddr=%r>" % (
            state, self.fileno(), self.family, self.type, self._local, self._peer)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --- timeouts -------------------------------------------------------------------------
    def settimeout(self, value):
        if value is not None:
            value = float(value)
            if value < 0:
                raise ValueError("Timeout value out of range")
        self._timeout = value

    def gettimeout(self):
        return self._timeout

    def setblocking(self, flag):
        self._timeout = None if flag else 0.0

    def getblocking(self):
        return self._timeout != 0.0

    # --- options: TCP_NODELAY is always on in the server; others are kept, not applied ---
    def setsockopt(self, level, option, value, optlen=None):
        self._options[(level, option)] = value

    def getsockopt(self, level, option, buflen=None):
        return self._options.get((level, option), 0)

    # --- connecting -----------------------------------------------------------------------
    def connect(self, address):
        if self._closed:
            raise OSError(errno.EBADF, "Bad file descriptor")
        if self._id is not None:
            raise OSError(errno.EISCONN, "Transport endpoint is already connected")
        host, port = address[0], address[1]
        if isinstance(host, bytes):
            host = host.decode("idna")
        family = 6 if self._family == socket.AF_INET6 else 4
        # A non-blocking socket (timeout 0) connects as a blocking one, bounded by the call's
        # deadline: a 0 ms limit would fail every connect that is not instant, where CPython
        # answers EINPROGRESS and the caller waits in select (kafka-python, pika).
        timeout = None if self._timeout == 0.0 else self._timeout
        answer = host_request(
            "net.connect",
            {"host": host, "port": int(port), "family": family, "timeoutMs": _ms(timeout)},
            _wait_for(timeout),
        )
        self._id = answer["id"]
        self._peer = tuple(answer["peer"])
        self._local = tuple(answer["local"])
        _call_sockets.add(self)

    def connect_ex(self, address):
        try:
            self.connect(address)
        except OSError as error:
            return error.errno or errno.EIO
        return 0

    def bind(self, address):
        raise OSError(errno.EOPNOTSUPP, NOT_OFFERED)

    def listen(self, backlog=None):
        raise OSError(errno.EOPNOTSUPP, NOT_OFFERED)

    def accept(self):
        raise OSError(errno.EOPNOTSUPP, NOT_OFFERED)

    def getpeername(self):
        if self._peer is None:
            raise OSError(errno.ENOTCONN, "Transport endpoint is not connected")
        return self._peer

    def getsockname(self):
        return self._local or (("0.0.0.0", 0) if self._family == socket.AF_INET else ("::", 0, 0, 0))

    def _connected_id(self):
        if self._id is None:
            if self._closed:
                raise OSError(errno.EBADF, "Bad file descriptor")
            raise OSError(errno.ENOTCONN, "Transport endpoint is not connected")
        return self._id

    # --- data -----------------------------------------------------------------------------
    def send(self, data, flags=0):
        """Hands the bytes to the server's side of the socket, as to a kernel's send buffer: the
        script does not wait for an answer unless _UNSYNCED_SEND_BYTES went out since it last did,
        so a peer that stops reading holds the script back rather than filling the server's
        memory. A write error shows at a later operation on the socket, as on POSIX."""
        view = memoryview(data).cast("B")
        args = {"id": self._connected_id(), "data": base64.b64encode(view).decode("ascii")}
        self._unsynced_bytes += len(view)
        if self._unsynced_bytes <= _UNSYNCED_SEND_BYTES:
            host_post("net.send", args)
            return len(view)
        self._unsynced_bytes = 0
        return host_request("net.send", args, _wait_for(self._timeout))["sent"]

    def sendall(self, data, flags=0):
        view = memoryview(data).cast("B")
        for start in range(0, len(view), _SEND_CHUNK_BYTES):
            self.send(view[start : start + _SEND_CHUNK_BYTES], flags)

    def recv(self, bufsize, flags=0):
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        if bufsize == 0:
            return b""
        socket_id = self._connected_id()
        if self._at_eof:
            return b""
        try:
            answer = host_request(
                "net.recv",
                {"id": socket_id, "max": bufsize, "timeoutMs": _ms(self._timeout)},
                _wait_for(self._timeout),
            )
        except TimeoutError:
            if self._timeout == 0.0:
                raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable") from None
            raise
        # The server saw the peer's end of stream right after these bytes: the next read returns b"".
        self._at_eof = answer.get("eof", False)
        return base64.b64decode(answer["data"])

    def recv_into(self, buffer, nbytes=0, flags=0):
        view = memoryview(buffer).cast("B")
        data = self.recv(nbytes or len(view), flags)
        view[: len(data)] = data
        return len(data)

    def recvfrom(self, bufsize, flags=0):
        return self.recv(bufsize, flags), self._peer

    def recvfrom_into(self, buffer, nbytes=0, flags=0):
        return self.recv_into(buffer, nbytes, flags), self._peer

    def sendto(self, *args):
        raise OSError(errno.EOPNOTSUPP, NOT_OFFERED)

    makefile = _std_socket_class.__dict__["makefile"]

    # --- ending ---------------------------------------------------------------------------
    def shutdown(self, how):
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            host_request("net.shutdown", {"id": self._connected_id()})

    def _decref_socketios(self):
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed:
            self.close()

    def close(self):
        # As in CPython, a file from makefile() keeps the connection open until it is closed too.
        self._closed = True
        if self._io_refs <= 0 and self._id is not None:
            gitfunc_bridge.post("net.close", {"id": self._id})
            self._id = None

    def detach(self):
        """Gives up the connection without closing it (ssl's wrap_socket takes it over)."""
        socket_id, self._id, self._closed = self._id, None, True
        return socket_id

    def _ended_with_call(self):
        self._id = None
        self._closed = True


def end_call():
    """Closes every socket the call that just ended left open (one message, only if it used any)."""
    global _call_used_network
    if not _call_used_network:
        return
    _call_used_network = False
    for sock in list(_call_sockets):
        sock._ended_with_call()
    _call_sockets.clear()
    gitfunc_bridge.post("net.endCall", {})


# --- name resolution ------------------------------------------------------------------------

def _literal_family(host):
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return family
        except OSError:
            continue
    return None


def _port_number(port):
    if port is None:
        return 0
    if isinstance(port, bytes):
        port = port.decode("ascii")
    if isinstance(port, str):
        if port.isdigit():
            return int(port)
        return socket.getservbyname(port, "tcp")
    return int(port)


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    """Resolved by the server host; TCP entries only, as gitfunc offers no other kind."""
    if isinstance(host, bytes):
        host = host.decode("idna")
    if host is None:
        host = "localhost"
    port = _port_number(port)
    literal = _literal_family(host)
    if literal is not None:
        if family not in (0, literal):
            raise socket.gaierror(getattr(socket, "EAI_FAMILY", -6), "ai_family not supported")
        found = [(literal, host)]
    else:
        wanted = {socket.AF_INET: 4, socket.AF_INET6: 6}.get(family, 0)
        answer = host_request("net.resolve", {"host": host, "family": wanted})
        found = [(socket.AF_INET if fam == 4 else socket.AF_INET6, address) for fam, address in answer["addresses"]]
    kind = socket.SocketKind(type or socket.SOCK_STREAM)
    return [
        (
            socket.AddressFamily(fam),
            kind,
            proto or socket.IPPROTO_TCP,
            "",
            (address, port) if fam == socket.AF_INET else (address, port, 0, 0),
        )
        for fam, address in found
    ]


def gethostbyname(host):
    return getaddrinfo(host, 0, socket.AF_INET)[0][4][0]


def gethostbyname_ex(host):
    addresses = [entry[4][0] for entry in getaddrinfo(host, 0, socket.AF_INET)]
    return host, [], addresses


# --- select over gitfunc sockets ------------------------------------------------------------

_std_select = select.select


def _as_socket(item):
    if isinstance(item, HostSocket):
        return item
    number = item if isinstance(item, int) else getattr(item, "fileno", lambda: None)()
    return _sockets_by_fd.get(number) if isinstance(number, int) else None


def host_select(rlist, wlist, xlist, timeout=None):
    """select.select for gitfunc sockets: readable once data, the end or an error is there;
    always writable (the server buffers writes). Other objects go to the original select."""
    everything = list(rlist) + list(wlist) + list(xlist)
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
            {"ids": [sock._id for _, sock in open_ones], "timeoutMs": _ms(wait)},
            _wait_for(wait),
        )
        ready = set(answer["readable"])
        readable = [item for item, sock in open_ones if sock._id in ready]
    return readable, writable, []


class _Urllib3OnSockets:
    """urllib3 2.x, on Emscripten, swaps its socket transport for one built on the browser's
    fetch through the `js` module, which gitfunc scripts do not have. Here sockets work, so its
    own socket transport is kept: the module it injects from is served by this finder, with an
    injection that does nothing. A finder rather than a sys.modules entry, so that it holds for
    each revision's own urllib3 (see PackageSets). urllib3 1.26 never imports it."""

    NAME = "urllib3.contrib.emscripten"

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name == self.NAME else None

    def create_module(self, spec):
        return None  # the default module

    def exec_module(self, module):
        module.inject_into_urllib3 = lambda: None
        module.extract_from_urllib3 = lambda: None


def install():
    """Makes `socket`, `select` and `selectors` use gitfunc sockets (once per interpreter)."""
    sys.meta_path.insert(0, _Urllib3OnSockets())
    # Pyodide's socket module lacks AF_UNIX: with Linux's value, asking for one reads NOT_OFFERED.
    if not hasattr(socket, "AF_UNIX"):
        socket.AF_UNIX = 1
    socket.socket = HostSocket
    socket.SocketType = HostSocket
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
    select.select = host_select
    # Libraries prefer poll() when it exists (urllib3's wait_for_read): only select knows these sockets.
    if hasattr(select, "poll"):
        del select.poll
    selectors.SelectSelector._select = staticmethod(host_select)
    selectors.DefaultSelector = selectors.SelectSelector
