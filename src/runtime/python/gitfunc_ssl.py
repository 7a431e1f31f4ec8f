"""Client TLS for scripts, done by the server host on the script's connection (CONTRACT section 10).

Pyodide's `ssl` is a stub: its SSLContext keeps settings but cannot wrap a socket. `install()`
keeps the stub's constants, exceptions and SSLContext, and makes `wrap_socket` hand the
connection to Node's TLS in the server thread. Verification uses the host's CA store and the
operator's `GITFUNC_CA_FILE`, plus every CA the context loaded (`load_verify_locations`, as
requests does with certifi's bundle); `CERT_NONE` and `check_hostname = False` are honoured.
"""

import base64
import errno
import hashlib
import os
import socket
import ssl

import gitfunc_socket
from gitfunc_socket import NOT_OFFERED, HostSocket, host_request


def _pem_of(data):
    """PEM text of CA data given as PEM text, or DER bytes."""
    if isinstance(data, str):
        return data
    data = bytes(data)
    if b"-----BEGIN" in data:
        return data.decode("ascii")
    return ssl.DER_cert_to_PEM_cert(data)


def _trust(context):
    """{sha256: PEM} of the CA bundles this context loaded."""
    bundles = context.__dict__.get("_gitfunc_trust")
    if bundles is None:
        bundles = context.__dict__["_gitfunc_trust"] = {}
    return bundles


def load_verify_locations(self, cafile=None, capath=None, cadata=None):
    if cafile is None and capath is None and cadata is None:
        raise TypeError("cafile, capath and cadata cannot be all omitted")
    pems = []
    if cafile is not None:
        with open(cafile, "rb") as file:
            pems.append(_pem_of(file.read()))
    if capath is not None:
        for name in sorted(os.listdir(capath)):
            path = os.path.join(capath, name)
            if os.path.isfile(path):
                with open(path, "rb") as file:
                    pems.append(_pem_of(file.read()))
    if cadata is not None:
        pems.append(_pem_of(cadata))
    for pem in pems:
        if "-----BEGIN CERTIFICATE-----" not in pem:
            raise ssl.SSLError(0, "[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found")
        _trust(self)[hashlib.sha256(pem.encode()).hexdigest()] = pem


def load_cert_chain(self, certfile, keyfile=None, password=None):
    with open(certfile, "r") as file:
        cert = file.read()
    key = cert
    if keyfile is not None:
        with open(keyfile, "r") as file:
            key = file.read()
    if callable(password):
        password = password()
    if isinstance(password, (bytes, bytearray)):
        password = bytes(password).decode()
    self.__dict__["_gitfunc_client"] = {"cert": cert, "key": key, **({"passphrase": password} if password else {})}


def set_alpn_protocols(self, protocols):
    self.__dict__["_gitfunc_alpn"] = [str(p) for p in protocols]


def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, suppress_ragged_eofs=True,
                server_hostname=None, session=None):
    if server_side:
        raise OSError(errno.EOPNOTSUPP, "server-side TLS: " + NOT_OFFERED)
    if not isinstance(sock, HostSocket):
        raise TypeError("wrap_socket needs a socket")
    if self.check_hostname and not server_hostname:
        raise ValueError("check_hostname requires server_hostname")
    tls = HostSSLSocket(sock, self, server_hostname)
    if do_handshake_on_connect and tls._id is not None:
        tls.do_handshake()
    return tls


def _tuples(value):
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


class HostSSLSocket(HostSocket):
    """A gitfunc socket after `wrap_socket`: the same connection, encrypted by the server."""

    def __init__(self, sock, context, server_hostname):
        HostSocket.__init__(self, sock._family, sock._type, sock.proto)
        self._timeout = sock._timeout
        self._peer, self._local, self._options = sock._peer, sock._local, sock._options
        connected = sock._id is not None
        self._id = sock.detach()
        if connected:
            gitfunc_socket.call_sockets.add(self)
        self._context = context
        self.server_hostname = server_hostname
        self.server_side = False
        self.session = None
        self.session_reused = False
        self._handshake = None

    context = property(lambda self: self._context)

    def connect(self, address):
        HostSocket.connect(self, address)
        self.do_handshake()

    def do_handshake(self, block=False):
        if self._handshake is not None:
            return
        context = self._context
        trust = _trust(context)
        # On a non-blocking socket the handshake blocks, bounded by the call's deadline (as connect
        # does): a 0 ms limit would fail it where CPython raises SSLWantReadError and the caller retries.
        timeout = None if self._timeout == 0.0 else self._timeout
        args = {
            "id": self._connected_id(),
            "serverHostname": self.server_hostname,
            "verify": context.verify_mode != ssl.CERT_NONE,
            "checkHostname": bool(context.check_hostname),
            "trust": sorted(trust),
            "alpn": context.__dict__.get("_gitfunc_alpn", []),
            "timeoutMs": gitfunc_socket.host_timeout_ms(timeout),
        }
        client = context.__dict__.get("_gitfunc_client")
        if client is not None:
            args["client"] = client
        wait = gitfunc_socket.answer_wait_ms(timeout)
        answer = host_request("net.startTls", args, wait)
        if "unknownTrust" in answer:
            # The server has not seen these bundles yet: send them once.
            args["pems"] = {sha: trust[sha] for sha in answer["unknownTrust"]}
            answer = host_request("net.startTls", args, wait)
        self._handshake = answer

    def getpeercert(self, binary_form=False):
        if self._handshake is None:
            raise ValueError("handshake not done yet")
        if binary_form:
            der = self._handshake["der"]
            return None if der is None else base64.b64decode(der)
        return {key: _tuples(value) for key, value in self._handshake["cert"].items()}

    def version(self):
        return None if self._handshake is None else self._handshake["version"]

    def cipher(self):
        return None if self._handshake is None else tuple(self._handshake["cipher"])

    def selected_alpn_protocol(self):
        return None if self._handshake is None else self._handshake["alpn"]

    def selected_npn_protocol(self):
        return None

    def shared_ciphers(self):
        return None

    def compression(self):
        return None

    def pending(self):
        return 0

    def get_channel_binding(self, cb_type="tls-unique"):
        return None

    def recv(self, bufsize, flags=0):
        try:
            return HostSocket.recv(self, bufsize, flags)
        except BlockingIOError:
            # A non-blocking read with nothing there: CPython's SSLSocket raises this, not BlockingIOError.
            raise ssl.SSLWantReadError(ssl.SSL_ERROR_WANT_READ, "The operation did not complete (read)") from None

    def read(self, len=1024, buffer=None):
        if buffer is not None:
            return self.recv_into(buffer, len)
        return self.recv(len)

    def write(self, data):
        return self.send(data)

    def unwrap(self):
        raise OSError(errno.EOPNOTSUPP, "unwrapping TLS is not offered to gitfunc scripts")


def get_server_certificate(addr, ssl_version=ssl.PROTOCOL_TLS_CLIENT, ca_certs=None, timeout=None):
    host, _port = addr
    if ca_certs is not None:
        context = ssl.create_default_context(cafile=ca_certs)
    else:
        context = ssl._create_unverified_context()
    with socket.create_connection(addr, timeout=timeout) as sock:
        with context.wrap_socket(sock, server_hostname=host) as tls:
            return ssl.DER_cert_to_PEM_cert(tls.getpeercert(True))


def install():
    """Makes the stub `ssl` module's SSLContext wrap gitfunc sockets (once per interpreter)."""
    ssl.SSLContext.load_verify_locations = load_verify_locations
    ssl.SSLContext.load_cert_chain = load_cert_chain
    ssl.SSLContext.set_alpn_protocols = set_alpn_protocols
    ssl.SSLContext.wrap_socket = wrap_socket
    ssl.SSLContext.sslsocket_class = HostSSLSocket
    ssl.SSLSocket = HostSSLSocket
    ssl.get_server_certificate = get_server_certificate
    # The stub refuses `hostname_checks_common_name = False` (urllib3 2.x sets it). Node's check
    # reads the subject's common name only for a certificate without DNS names, as OpenSSL's.
    ssl.HAS_NEVER_CHECK_COMMON_NAME = True
