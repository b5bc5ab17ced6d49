"""Scripted stream servers for the protocol tests: the real handshake on a loopback port, then
whatever the test makes the server do (stall, drop, flood, lie). Used by test_streaming_*.py."""
from __future__ import annotations

import threading
from typing import Callable

from lpmbench.streaming import protocol as P


def scripted_server(after_ready: Callable, info: dict | None = None):
    """A protocol server on a free loopback port: answers ``info``, reads ``hello`` and the
    references, sends ``ready``, then runs ``after_ready(ws, hello)``. Returns the websockets
    server (``.shutdown()`` stops it)."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.server import serve

    def handler(ws):
        try:
            hello, _ = P.unpack(ws.recv())
            if hello["type"] == "info":
                ws.send(P.text({"type": "info", "protocol": P.PROTOCOL, "version": P.VERSION, "server": info or {}}))
                return
            for _ in range(hello["n_references"]):
                ws.recv()
            ws.send(P.text({"type": "ready", "protocol": P.PROTOCOL, "version": P.VERSION, "server": {}}))
            after_ready(ws, hello)
        except ConnectionClosed:
            pass

    srv = serve(handler, "127.0.0.1", 0, compression=None, max_queue=None, close_timeout=1)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def url(srv) -> str:
    return "ws://127.0.0.1:%d" % srv.socket.getsockname()[1]


def per_chunk(behaviour: Callable) -> Callable:
    """``after_ready`` calling ``behaviour(ws, chunk_index)`` per message received; "stop" ends it."""

    def run(ws, hello):
        k = 0
        while True:
            ws.recv()
            if behaviour(ws, k) == "stop":
                return
            k += 1

    return run
