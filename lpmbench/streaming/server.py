"""Server side of the streaming protocol: wrap a model in a few lines, in the model's own environment.

::

    from lpmbench.streaming.server import serve

    def make_session(case: dict, references: list[np.ndarray]) -> StreamSession:
        return MyModelSession(references[0], fps=case["fps"], width=case["width"], height=case["height"])

    serve(make_session, "127.0.0.1", 8765)          # blocks; Ctrl-C stops it

``make_session`` receives the case metadata (``hello.case``, see docs/streaming_protocol.md) and the
reference images as RGB uint8 arrays, and returns any object with ``feed(chunk) -> frames`` and
``finish() -> frames`` (:class:`lpmbench.adapters.base.StreamSession`). A streaming lpmbench
:class:`~lpmbench.adapters.base.Adapter` is served with :func:`serve_adapter`. This module needs only
numpy, OpenCV and websockets (plus lpmbench itself) in the model's environment.
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..adapters.base import AudioChunk, StreamSession
from ..procs import RssSampler, cuda_peak_mb, reset_cuda_peak
from . import protocol as P

log = logging.getLogger("lpmbench.streaming.server")
SessionFactory = Callable[[dict[str, Any], list[np.ndarray]], StreamSession]


def _memory_stats(sampler: RssSampler) -> dict[str, Any]:
    """The ``end`` message's ``stats``: peak RSS of this server's process tree during the session
    (the same sampler the worker uses) and torch's CUDA peak."""
    out: dict[str, Any] = {"peak_rss_mb": sampler.stop()}
    gpu = cuda_peak_mb()
    if gpu is not None:
        out["peak_gpu_mb"] = gpu
    return out


def _send_frames(ws, frames: list[np.ndarray], index: int, seq: int, quality: int) -> int:
    for f in frames:
        f = np.asarray(f)
        if f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
            raise TypeError(f"session returned a frame of dtype {f.dtype} shape {f.shape}; expected uint8 (H, W, 3) RGB")
        header = {"type": "frame", "index": index, "chunk": seq, "format": "jpeg", "width": int(f.shape[1]),
                  "height": int(f.shape[0])}
        ws.send(P.pack(header, P.encode_jpeg(f, quality)))
        index += 1
    return index


def handle_connection(ws, make_session: SessionFactory, info: dict[str, Any], *, hello_timeout_s: float = 30.0,
                      jpeg_quality: int = 90) -> None:
    """Run one protocol session on an open connection (one case)."""
    from websockets.exceptions import ConnectionClosed

    session = sampler = None
    try:
        header, _ = P.unpack(ws.recv(timeout=hello_timeout_s))
        if header["type"] == "info":
            ws.send(P.text({"type": "info", "protocol": P.PROTOCOL, "version": P.VERSION, "server": info}))
            return
        if header["type"] != "hello":
            raise P.ProtocolError(f"expected 'hello' first, got {header['type']!r}")
        if header.get("protocol") != P.PROTOCOL or int(header.get("version", -1)) != P.VERSION:
            raise P.ProtocolError(f"unsupported protocol {header.get('protocol')!r} version {header.get('version')!r}; "
                                  f"this server speaks {P.PROTOCOL} version {P.VERSION}")
        meta = header.get("case")
        if not isinstance(meta, dict):
            raise P.ProtocolError("hello: 'case' must be an object")
        refs = []
        for i in range(int(header.get("n_references", 0))):
            h, payload = P.unpack(ws.recv(timeout=hello_timeout_s))
            if h["type"] != "reference":
                raise P.ProtocolError(f"expected reference image {i}, got {h['type']!r}")
            refs.append(P.decode_image(payload, f"reference image {i}"))
        reset_cuda_peak()
        sampler = RssSampler(os.getpid(), tree=True).start()
        session = make_session(meta, refs)
        P.encode_jpeg(np.zeros((8, 8, 3), np.uint8))  # warm the encoder before the clock runs
        ws.send(P.text({"type": "ready", "protocol": P.PROTOCOL, "version": P.VERSION, "server": info}))
        index = 0
        while True:
            header, payload = P.unpack(ws.recv())
            kind = header["type"]
            if kind == "chunk":
                seq, t0, agent, partner, events, last = P.unpack_chunk(header, payload)
                index = _send_frames(ws, session.feed(AudioChunk(t0, agent, partner, events, last)), index, seq,
                                     jpeg_quality)
            elif kind == "finish":
                index = _send_frames(ws, session.finish(), index, -1, jpeg_quality)
                ws.send(P.text({"type": "end", "n_frames": index, "stats": _memory_stats(sampler)}))
                return
            elif kind == "error":
                log.warning("client reported an error: %s", header.get("message"))
                return
            else:
                raise P.ProtocolError(f"unexpected message type {kind!r} during a session")
    except ConnectionClosed:
        log.info("client closed the connection")
    except TimeoutError:
        _try_send_error(ws, "protocol", f"no 'hello' within {hello_timeout_s} s")
    except P.ProtocolError as e:
        _try_send_error(ws, "protocol", str(e))
    except Exception as e:  # the model failed: tell the client why, keep serving other sessions
        log.exception("session failed")
        _try_send_error(ws, "session", f"{type(e).__name__}: {e}", traceback.format_exc(limit=5)[-2000:])
    finally:
        if sampler is not None:
            sampler.stop()
        close = getattr(session, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                log.exception("session close failed")


def _try_send_error(ws, where: str, message: str, detail: str = "") -> None:
    try:
        ws.send(P.text({"type": "error", "where": where, "message": message, "detail": detail}))
    except Exception:  # the connection is already gone
        pass


class Server:
    """A running server (in a background thread): ``.port``, ``.url``, ``.close()``."""

    def __init__(self, ws_server, thread: threading.Thread):
        self._server, self._thread = ws_server, thread
        self.host, self.port = ws_server.socket.getsockname()[:2]

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _ws_server(make_session: SessionFactory, host: str, port: int, info: dict[str, Any], max_message_mb: float,
               **kw: Any):
    from websockets.sync.server import serve as ws_serve

    def handler(ws) -> None:
        handle_connection(ws, make_session, info, **kw)

    # max_queue=None: never stop reading the socket (a close frame must not wait behind unread chunks)
    return ws_serve(handler, host, port, compression=None, max_size=int(max_message_mb * 2**20), max_queue=None,
                    close_timeout=2)


def start_server(make_session: SessionFactory, host: str = "127.0.0.1", port: int = 0, *,
                 info: dict[str, Any] | None = None, max_message_mb: float = 64, **kw: Any) -> Server:
    """Serve in a background thread (``port=0`` picks a free port); returns a :class:`Server`."""
    srv = _ws_server(make_session, host, port, info or {}, max_message_mb, **kw)
    t = threading.Thread(target=srv.serve_forever, name="lpmbench-stream-server", daemon=True)
    t.start()
    return Server(srv, t)


def serve(make_session: SessionFactory, host: str = "127.0.0.1", port: int = 8765, *,
          info: dict[str, Any] | None = None, max_message_mb: float = 64, **kw: Any) -> None:
    """Serve until interrupted. ``info`` (name, version, fingerprint) is sent to clients in ``ready``."""
    with _ws_server(make_session, host, port, info or {}, max_message_mb, **kw) as srv:
        h, p = srv.socket.getsockname()[:2]
        print(f"lpmbench stream server on ws://{h}:{p} (protocol {P.PROTOCOL} v{P.VERSION})", flush=True)
        try:
            srv.serve_forever()
        except KeyboardInterrupt:
            pass


def adapter_session_factory(adapter) -> SessionFactory:
    """``make_session`` for a streaming lpmbench Adapter: rebuilds the Case (references saved to a
    temporary folder, since adapters read image files) and calls ``adapter.open_stream``."""

    def make_session(meta: dict[str, Any], refs: list[np.ndarray]) -> StreamSession:
        from PIL import Image

        tmp = Path(tempfile.mkdtemp(prefix="lpmbench-refs-"))
        paths = []
        for i, r in enumerate(refs):
            p = tmp / f"reference_{i}.png"
            Image.fromarray(r).save(p)
            paths.append(p)
        return _TempRefsSession(adapter.open_stream(P.case_from_meta(meta, paths)), tmp)

    return make_session


class _TempRefsSession(StreamSession):
    """Delegates to the adapter's session; removes the temporary reference folder on close."""

    def __init__(self, inner: StreamSession, tmp: Path):
        self.inner, self.tmp = inner, tmp

    def feed(self, chunk: AudioChunk) -> list[np.ndarray]:
        return self.inner.feed(chunk)

    def finish(self) -> list[np.ndarray]:
        return self.inner.finish()

    def close(self) -> None:
        import shutil

        close = getattr(self.inner, "close", None)
        if callable(close):
            close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def serve_adapter(adapter, host: str = "127.0.0.1", port: int = 8765, **kw: Any) -> None:
    """Serve a streaming :class:`~lpmbench.adapters.base.Adapter` (``setup`` is called first)."""
    adapter.setup()
    info = {"name": adapter.name, "version": adapter.version, "fingerprint": adapter.fingerprint()}
    serve(adapter_session_factory(adapter), host, port, info=info, **kw)
