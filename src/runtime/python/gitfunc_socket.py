"""TCP client sockets for scripts, held by the server (CONTRACT section 10).

Pyodide has no socket layer of its own on Node. gitfunc_network.install() puts HostSocket in
place of `socket.socket`: its every operation is a blocking request to the server thread
(gitfunc_bridge), where Node's `net` opens the connection after the operator's egress rules
allow it. The stdlib built on `socket` (`create_connection`, `http.client`,
`urllib.request`, `smtplib`) and libraries such as urllib3, requests, pymysql and redis then
work unchanged. Listening, UDP and Unix sockets are not offered.

A call's sockets are closed when the call ends (`end_call`); a socket kept in a module global
past its call then fails with EBADF, and clients that check their pooled connections (urllib3,
redis) open a new one.
"""

import base64
import errno
import itertools
import socket
import ssl
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
sockets_by_fd = weakref.WeakValueDictionary()
# Sockets the current call connected; closed with the call (see end_call).
call_sockets = weakref.WeakSet()
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


def host_timeout_ms(timeout):
    """A socket timeout (seconds or None) as the server's ops take it (ms, or -1 for none)."""
    return _HOST_TIMEOUT_NONE if timeout is None else int(timeout * 1000)


def answer_wait_ms(timeout):
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
        sockets_by_fd[self._fd] = self
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
            {"host": host, "port": int(port), "family": family, "timeoutMs": host_timeout_ms(timeout)},
            answer_wait_ms(timeout),
        )
        self._id = answer["id"]
        self._peer = tuple(answer["peer"])
        self._local = tuple(answer["local"])
        call_sockets.add(self)

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
        return host_request("net.send", args, answer_wait_ms(self._timeout))["sent"]

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
                {"id": socket_id, "max": bufsize, "timeoutMs": host_timeout_ms(self._timeout)},
                answer_wait_ms(self._timeout),
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
    for sock in list(call_sockets):
        sock._ended_with_call()
    call_sockets.clear()
    gitfunc_bridge.post("net.endCall", {})
