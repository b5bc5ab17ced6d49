"""The client adapter of the streaming protocol: ``remote``, a generator in another process.

``model=remote model.params.url=ws://127.0.0.1:8765`` (conf/model/remote.yaml) drives any server
built with :mod:`lpmbench.streaming.server`. The server reports its own memory; the worker records
that (:meth:`RemoteAdapter.reported_memory`), never the client's. Every failure of the server
(refused or dropped connection, a stall past a timeout, a malformed message, an error it reports)
raises :class:`AdapterError` with a clear message: the runner records it for that case and goes on
with the next.
"""
from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..adapters.base import Adapter, AdapterError, AsyncStreamSession, AudioChunk
from ..case import Case
from . import protocol as P

_WAKE = object()  # queued by the receiver to wake a waiting poll (error or end)
# Back-pressure, so that a server flooding frames cannot grow the client's memory: at most this many
# decoded frames wait for the driver (then the receiver stops reading), and the WebSocket library
# buffers at most this many undecoded messages (then it stops reading the socket: TCP flow control
# holds the server). Frames are also capped in number (protocol.max_frames) and size
# (protocol.frame_pixel_limit, checked before decoding).
FRAMES_QUEUED = 16
MESSAGES_BUFFERED = 4


def _connect(url: str, timeout: float, max_message_mb: float):
    import inspect

    from websockets.sync.client import connect

    kw: dict[str, Any] = dict(open_timeout=timeout, compression=None, max_size=int(max_message_mb * 2**20),
                              close_timeout=2, max_queue=MESSAGES_BUFFERED)
    params = inspect.signature(connect).parameters
    if "proxy" in params:
        kw["proxy"] = None  # a loopback or LAN server: never through an HTTP proxy from the environment
    if "legacy" in params:
        kw["legacy"] = True  # a connection object we close ourselves (not a context manager)
    try:
        # no compression: JPEG and float audio do not deflate, and it would add latency
        return connect(url, **kw)
    except Exception as e:  # OSError, TimeoutError, InvalidURI, InvalidHandshake, ...
        raise AdapterError(f"cannot connect to stream server {url}: {type(e).__name__}: {e}") from None


class RemoteSession(AsyncStreamSession):
    """One case on a stream server. A receiver thread decodes frames and stamps their arrival."""

    def __init__(self, url: str, case: Case, *, connect_timeout_s: float = 10.0, ready_timeout_s: float = 120.0,
                 first_frame_timeout_s: float = 120.0, frame_timeout_s: float = 10.0, max_message_mb: float = 16):
        self.url, self.case = url, case
        self.first_frame_timeout_s, self.frame_timeout_s = first_frame_timeout_s, frame_timeout_s
        self._q: queue.Queue = queue.Queue(maxsize=FRAMES_QUEUED)
        self._max_frames = P.max_frames(case.n_frames)
        self._max_pixels = P.frame_pixel_limit(case.width, case.height)
        self._error: AdapterError | None = None
        self._end = False
        self._stats: dict[str, float] = {}
        self.notes: list[str] = []  # server figures dropped as implausible
        self._n_received = 0
        self._seq = 0
        self._first_send: float | None = None
        self._last_frame: float | None = None
        self._closed = False
        self.server_info: dict[str, Any] = {}
        # warm the JPEG decoder now (importing cv2 takes ~0.1 s), not on the first frame's clock
        P.decode_image(P.encode_jpeg(np.zeros((8, 8, 3), np.uint8)))
        self._max_message_mb = max_message_mb
        self.ws = _connect(url, connect_timeout_s, max_message_mb)
        try:
            self._handshake(ready_timeout_s)
        except BaseException:
            self.ws.close()
            raise
        self._thread = threading.Thread(target=self._receive, name=f"lpmbench-recv-{case.id}", daemon=True)
        self._thread.start()

    # -- set-up ------------------------------------------------------------------------------------
    def _handshake(self, timeout: float) -> None:
        from websockets.exceptions import ConnectionClosed

        refs = [Path(p) for p in self.case.character.references]
        try:
            self.ws.send(P.text({"type": "hello", "protocol": P.PROTOCOL, "version": P.VERSION,
                                 "case": P.case_meta(self.case), "n_references": len(refs)}))
            for i, p in enumerate(refs):
                self.ws.send(P.pack({"type": "reference", "index": i, "name": p.name}, p.read_bytes()))
            header, _ = P.unpack(self.ws.recv(timeout=timeout))
        except TimeoutError:
            raise AdapterError(f"stream server {self.url}: no 'ready' within {timeout} s (ready_timeout_s)") from None
        except ConnectionClosed as e:
            raise AdapterError(f"stream server {self.url} closed the connection during set-up ({_closed(e)})") from None
        except P.ProtocolError as e:
            raise AdapterError(f"stream server {self.url}: malformed reply to hello: {e}") from None
        if header["type"] == "error":
            raise AdapterError(f"stream server {self.url} refused case {self.case.id!r}: {header.get('message')}")
        if header["type"] != "ready":
            raise AdapterError(f"stream server {self.url}: expected 'ready', got {header['type']!r}")
        self.server_info = dict(header.get("server") or {})

    # -- receiver thread ---------------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        if self._error is None:
            self._error = AdapterError(f"stream server {self.url}, case {self.case.id!r}: {message}")
        self._wake()

    def _wake(self) -> None:
        try:
            self._q.put_nowait(_WAKE)
        except queue.Full:  # a poll returns at once anyway
            pass

    def _put(self, item: tuple[float, np.ndarray]) -> bool:
        """Queue a frame for the driver, waiting while the queue is full (back-pressure); False
        once the session is closed."""
        while not self._closed:
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _receive(self) -> None:
        from websockets.exceptions import ConnectionClosed

        while True:
            try:
                msg = self.ws.recv()
            except ConnectionClosed as e:
                sent = getattr(e, "sent", None)
                if sent is not None and sent.code == 1009:  # the library refused an oversized message
                    self._fail(f"a message exceeded max_message_mb={self._max_message_mb:g} "
                               f"(after {self._n_received} frame(s))")
                elif not self._end and not self._closed:
                    self._fail(f"server disconnected after {self._n_received} frame(s) before 'end' ({_closed(e)})")
                return
            except Exception as e:  # pragma: no cover - unexpected transport failure
                self._fail(f"receive failed: {type(e).__name__}: {e}")
                return
            try:
                header, payload = P.unpack(msg)
                kind = header["type"]
                if kind == "frame":
                    if self._n_received >= self._max_frames:
                        self._fail(f"flooding: frame #{self._n_received} refused, a case of {self.case.n_frames} "
                                   f"frames takes at most {self._max_frames}")
                        return
                    if header.get("index") != self._n_received:
                        raise P.ProtocolError(f"frame index {header.get('index')!r}, expected {self._n_received}")
                    frame = P.decode_image(payload, f"frame #{self._n_received}", self._max_pixels)
                    t = time.perf_counter()
                    self._n_received += 1
                    self._last_frame = t
                    if not self._put((t, frame)):
                        return
                elif kind == "end":
                    self._stats, self.notes = P.clean_stats(header.get("stats"))
                    if int(header.get("n_frames", self._n_received)) != self._n_received:
                        raise P.ProtocolError(f"'end' says {header.get('n_frames')} frames, {self._n_received} received")
                    self._end = True
                    self._wake()
                    return
                elif kind == "error":
                    detail = header.get("detail") or ""
                    self._fail(f"server error ({header.get('where', '?')}): {header.get('message')}"
                               + (f"\n{detail}" if detail else ""))
                    return
                else:
                    raise P.ProtocolError(f"unexpected message type {kind!r}")
            except P.ProtocolError as e:
                self._fail(f"malformed message from server: {e}")
                return

    # -- AsyncStreamSession ------------------------------------------------------------------------
    @property
    def done(self) -> bool:  # type: ignore[override]
        return self._end and self._q.empty()

    def send(self, chunk: AudioChunk) -> None:
        from websockets.exceptions import ConnectionClosed

        self._raise_if_failed()
        if self._first_send is None:
            self._first_send = time.perf_counter()
        try:
            self.ws.send(P.pack_chunk(self._seq, chunk.t0, chunk.agent, chunk.partner,
                                      chunk.events, chunk.last))
            self._seq += 1
        except ConnectionClosed as e:
            self._thread.join(timeout=1)
            self._raise_if_failed()
            raise AdapterError(f"stream server {self.url}, case {self.case.id!r}: connection lost while sending "
                               f"({_closed(e)})") from None

    def poll(self, timeout: float = 0.0) -> list[tuple[float, np.ndarray]]:
        out: list[tuple[float, np.ndarray]] = []
        try:
            item = self._q.get(timeout=timeout) if timeout > 0 else self._q.get_nowait()
            while True:
                if item is not _WAKE:
                    out.append(item)
                item = self._q.get_nowait()
        except queue.Empty:
            pass
        if not out:
            self._raise_if_failed()
            self._check_timeouts()
        return out

    def close_input(self) -> None:
        self._raise_if_failed()
        if self._first_send is None:
            self._first_send = time.perf_counter()
        try:
            self.ws.send(P.text({"type": "finish"}))
        except Exception as e:
            self._thread.join(timeout=1)
            self._raise_if_failed()
            raise AdapterError(f"stream server {self.url}: connection lost sending 'finish' ({e})") from None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.ws.close()
        finally:
            self._thread.join(timeout=5)

    def stats(self) -> dict[str, Any]:
        """The server's plausible figures (:func:`~lpmbench.streaming.protocol.clean_stats`)."""
        return dict(self._stats)

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _check_timeouts(self) -> None:
        if self._end or self._first_send is None:
            return
        now = time.perf_counter()
        if self._last_frame is None:
            if now - self._first_send > self.first_frame_timeout_s:
                raise AdapterError(f"stream server {self.url}, case {self.case.id!r}: no frame within "
                                   f"{self.first_frame_timeout_s} s of the first chunk (first_frame_timeout_s)")
        elif now - self._last_frame > self.frame_timeout_s:
            raise AdapterError(f"stream server {self.url}, case {self.case.id!r}: stalled, no frame for "
                               f"{now - self._last_frame:.1f} s after frame #{self._n_received - 1} (frame_timeout_s="
                               f"{self.frame_timeout_s})")


def _closed(e: Exception) -> str:
    rcvd = getattr(e, "rcvd", None)
    if rcvd is not None:
        return f"close code {rcvd.code}{': ' + rcvd.reason if rcvd.reason else ''}"
    return "no close frame"


class RemoteAdapter(Adapter):
    """A generator behind a stream server (docs/streaming_protocol.md).

    Config: ``url`` (ws://host:port), ``connect_timeout_s`` (10), ``ready_timeout_s`` (120: the server
    loads the case), ``first_frame_timeout_s`` (120), ``frame_timeout_s`` (10: inactivity between
    frames, i.e. a stall), ``max_message_mb`` (16: the largest message accepted from the server).
    """

    name = "remote"
    version = "1"
    streaming = True

    def __init__(self, url: str = "ws://127.0.0.1:8765", connect_timeout_s: float = 10.0,
                 ready_timeout_s: float = 120.0, first_frame_timeout_s: float = 120.0, frame_timeout_s: float = 10.0,
                 max_message_mb: float = 16, **config: Any):
        super().__init__(url=url, connect_timeout_s=connect_timeout_s, ready_timeout_s=ready_timeout_s,
                         first_frame_timeout_s=first_frame_timeout_s, frame_timeout_s=frame_timeout_s,
                         max_message_mb=max_message_mb, **config)
        self.url = url
        self.server_info: dict[str, Any] = {}
        self._last: RemoteSession | None = None  # the latest case's session: its server's memory

    def setup(self) -> None:
        """Ask the server who it is (``info``): fails early, with the URL, when nothing listens."""
        self.server_info = server_info(self.url, float(self.config["connect_timeout_s"]))
        if self.server_info.get("name"):
            self.name = f"remote:{self.server_info['name']}"

    def fingerprint(self) -> str:
        return str(self.server_info.get("fingerprint") or "")

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["server"] = self.server_info
        return d

    def generate(self, case: Case, output: Path) -> None:
        """Offline: stream the case as fast as possible (the connection is closed even on errors)."""
        from .driver import run_stream

        run_stream(self, case, output, paced=False)

    def reported_memory(self) -> dict[str, Any]:
        """The server's own figures for the latest case (the client's memory is not the generator's)."""
        if self._last is None:
            return {}
        return {**self._last.stats(), "notes": list(self._last.notes)}

    def open_stream(self, case: Case) -> RemoteSession:
        c = self.config
        self._last = None
        self._last = RemoteSession(self.url, case, connect_timeout_s=float(c["connect_timeout_s"]),
                                   ready_timeout_s=float(c["ready_timeout_s"]),
                                   first_frame_timeout_s=float(c["first_frame_timeout_s"]),
                                   frame_timeout_s=float(c["frame_timeout_s"]),
                                   max_message_mb=float(c["max_message_mb"]))
        return self._last


def server_info(url: str, timeout: float = 10.0) -> dict[str, Any]:
    """The ``info`` a server reports (name, version, fingerprint); :class:`AdapterError` if unreachable."""
    ws = _connect(url, timeout, 1)
    try:
        ws.send(P.text({"type": "info"}))
        header, _ = P.unpack(ws.recv(timeout=timeout))
    except TimeoutError:
        raise AdapterError(f"stream server {url}: no reply to 'info' within {timeout} s") from None
    except Exception as e:
        raise AdapterError(f"stream server {url}: 'info' failed: {type(e).__name__}: {e}") from None
    finally:
        ws.close()
    if header.get("type") != "info":
        raise AdapterError(f"stream server {url}: expected 'info', got {header.get('type')!r}")
    if header.get("protocol") != P.PROTOCOL or header.get("version") != P.VERSION:
        raise AdapterError(f"stream server {url} speaks {header.get('protocol')!r} v{header.get('version')}, "
                           f"this client {P.PROTOCOL} v{P.VERSION}")
    return dict(header.get("server") or {})
