"""Name resolution for scripts, done by the server host (CONTRACT section 10): `getaddrinfo`,
`gethostbyname`, `gethostbyname_ex`. An IP address resolves to itself without a request."""

import socket

from gitfunc_socket import host_request

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
