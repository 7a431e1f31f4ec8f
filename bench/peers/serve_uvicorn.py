"""bench/peers: uvicorn serving hello_asgi:app with N worker processes, as `uvicorn --workers N`
does, but on a listening socket made with proto IPPROTO_TCP and bound to a free port.

Why not `uvicorn --workers N` itself: its socket is made with proto 0, and asyncio sets
TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, so every keep-alive response (headers and
body written separately) waits for the client's delayed ACK: measured 44 ms p50 at 1 connection
against 0.27 ms for a single uvicorn process. A Python team would not run it that way for long.

Usage: serve_uvicorn.py WORKERS; prints `READY http://127.0.0.1:PORT` once listening.
"""
import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

# Guarded: the worker processes are spawned and import this file as a module.
if __name__ == '__main__':
    workers = int(sys.argv[1])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', 0))
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    # sys.path[0] is this directory, in the spawned workers too: hello_asgi imports from here.
    config = uvicorn.Config('hello_asgi:app', host='127.0.0.1', port=port, workers=workers)
    server = uvicorn.Server(config)
    print(f'READY http://127.0.0.1:{port}', flush=True)
    Multiprocess(config, target=server.run, sockets=[sock]).run()
