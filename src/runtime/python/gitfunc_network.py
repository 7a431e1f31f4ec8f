"""Scripts reach the network through the server (CONTRACT section 10): installs gitfunc's
sockets, name resolution, select and TLS over the stdlib's, once per interpreter."""

import importlib.util
import select
import selectors
import socket
import sys

import gitfunc_ssl
from gitfunc_names import getaddrinfo, gethostbyname, gethostbyname_ex
from gitfunc_select import host_select
from gitfunc_socket import HostSocket


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
    """Makes `socket`, `select`, `selectors` and `ssl` use gitfunc sockets."""
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
    gitfunc_ssl.install()
