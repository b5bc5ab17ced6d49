"""The lpmbench streaming protocol (``lpmbench-stream`` version 1), shared by client and server.

Full description: ``docs/streaming_protocol.md``. In short, over one WebSocket connection per case:

* text messages are one JSON object with a ``type``;
* binary messages are *envelopes*: a 4-byte big-endian header length, the UTF-8 JSON header (with a
  ``type``) and the payload (reference image bytes, float32 audio, JPEG frames). Header and payload
  travel in one message, so they can never be paired wrongly.

client -> server: ``hello`` (text), ``reference`` x n (binary), ``chunk`` (binary) ..., ``finish`` (text)
server -> client: ``ready`` (text), ``frame`` (binary) ..., ``end`` (text); ``error`` (text) either way.
A client may instead send ``info`` (text) first and receives ``info`` (text) back.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from ..case import AUDIO_RATE, Case, Character, PromptEvent

from ..media import MAX_PIXELS

PROTOCOL = "lpmbench-stream"
VERSION = 1
_LEN = struct.Struct(">I")
MAX_HEADER = 1 << 20  # a header above 1 MiB is malformed, whatever it says
# Images are checked from their header, before decoding (a 1 MB PNG can decode to 20000x20000,
# 1.2 GB): any image at most the media decoder's own bound (lpmbench.media.MAX_PIXELS); a frame at
# most FRAME_PIXEL_FACTOR times the case's resolution, and never less than FRAME_PIXEL_FLOOR
# (generators render at their own size).
MAX_IMAGE_PIXELS = MAX_PIXELS
FRAME_PIXEL_FACTOR = 4
FRAME_PIXEL_FLOOR = 2048 * 2048
# A server may send a few frames more than the case has (rounding of its own clock), no more.
EXTRA_FRAMES_MIN, EXTRA_FRAMES_FRACTION = 25, 0.05
# Figures a server reports in ``end.stats``: kept when finite, >= 0 and below this bound (16 TiB).
STATS_KEYS = ("peak_rss_mb", "peak_gpu_mb")
MAX_MEMORY_MB = float(2**24)


class ProtocolError(ValueError):
    """A message does not follow the protocol; the message says which and why."""


def pack(header: dict[str, Any], payload: bytes = b"") -> bytes:
    """A binary envelope: length of the JSON header, the header, the payload."""
    h = json.dumps(header, separators=(",", ":")).encode()
    return _LEN.pack(len(h)) + h + payload


def unpack(message: bytes | str) -> tuple[dict[str, Any], bytes]:
    """(header, payload) of a text or binary message; raises :class:`ProtocolError` if malformed."""
    if isinstance(message, str):
        try:
            header = json.loads(message)
        except (ValueError, RecursionError) as e:  # also 5000-digit numbers, arrays nested 100,000 deep
            raise ProtocolError(f"text message is not usable JSON ({type(e).__name__}: {str(e)[:100]}): "
                                f"{message[:80]!r}") from None
        payload = b""
    else:
        data = bytes(message)
        if len(data) < _LEN.size:
            raise ProtocolError(f"binary message of {len(data)} bytes is shorter than its length prefix")
        (n,) = _LEN.unpack_from(data)
        if n > MAX_HEADER or _LEN.size + n > len(data):
            raise ProtocolError(f"binary message header length {n} exceeds the message ({len(data)} bytes)")
        try:
            header = json.loads(data[_LEN.size : _LEN.size + n].decode())
        except (ValueError, RecursionError) as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ProtocolError(f"binary message header is not usable JSON ({type(e).__name__}: {str(e)[:100]})") from None
        payload = data[_LEN.size + n :]
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise ProtocolError(f"message without a string 'type': {str(header)[:80]!r}")
    return header, payload


def text(header: dict[str, Any]) -> str:
    return json.dumps(header, separators=(",", ":"))


# -- audio chunks ---------------------------------------------------------------------------------
def pack_chunk(seq: int, t0: float, agent: np.ndarray, partner: np.ndarray, events: list[PromptEvent],
               last: bool) -> bytes:
    """A ``chunk`` envelope: agent then partner samples, float32 little-endian, same length."""
    a = np.ascontiguousarray(agent, dtype="<f4")
    p = np.ascontiguousarray(partner, dtype="<f4")
    header = {"type": "chunk", "seq": seq, "t0": t0, "n_samples": int(a.shape[0]), "rate": AUDIO_RATE,
              "events": [e.to_dict() for e in events], "last": bool(last)}
    return pack(header, a.tobytes() + p.tobytes())


def unpack_chunk(header: dict[str, Any], payload: bytes) -> tuple[int, float, np.ndarray, np.ndarray, list[PromptEvent], bool]:
    try:
        n = int(header["n_samples"])
        seq, t0 = int(header["seq"]), float(header["t0"])
        events = [PromptEvent(float(e["start"]), float(e["end"]), e.get("action"), e.get("text"))
                  for e in header.get("events", [])]
    except (KeyError, TypeError, ValueError) as e:
        raise ProtocolError(f"chunk header is missing or has a bad field: {e}") from None
    if len(payload) != 8 * n:
        raise ProtocolError(f"chunk {seq}: payload is {len(payload)} bytes, expected {8 * n} (2 x {n} float32)")
    samples = np.frombuffer(payload, dtype="<f4")
    return seq, t0, samples[:n].astype(np.float32), samples[n:].astype(np.float32), events, bool(header.get("last"))


# -- images ---------------------------------------------------------------------------------------
def encode_jpeg(frame_rgb: np.ndarray, quality: int = 90) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(frame_rgb[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ProtocolError("cv2.imencode failed to encode a frame as JPEG")
    return buf.tobytes()


def image_size(data: bytes, what: str = "image") -> tuple[int, int]:
    """(width, height) of a PNG or JPEG from its header alone; :class:`ProtocolError` otherwise."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"\xff\xd8":  # JPEG: walk the segments to the first start-of-frame
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                break
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if marker in (0x01, *range(0xD0, 0xD8)):  # standalone markers carry no length
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # SOF0..SOF15
                if i + 9 > len(data):
                    break
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return w, h
            i += 2 + length
        raise ProtocolError(f"{what}: JPEG of {len(data)} bytes has no readable frame header")
    raise ProtocolError(f"{what}: payload of {len(data)} bytes is not a PNG or JPEG image")


def frame_pixel_limit(width: int, height: int) -> int:
    """The largest frame (in pixels) accepted for a case of ``width`` x ``height``."""
    return min(MAX_IMAGE_PIXELS, max(FRAME_PIXEL_FLOOR, FRAME_PIXEL_FACTOR * width * height))


def decode_image(data: bytes, what: str = "image", max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """RGB uint8 from PNG or JPEG bytes, its size checked from the header before decoding;
    :class:`ProtocolError` when too large or undecodable."""
    import cv2

    if not data:
        raise ProtocolError(f"{what}: empty payload")
    w, h = image_size(data, what)
    if w * h > max_pixels or not (w and h):
        raise ProtocolError(f"{what}: a {w}x{h} image exceeds the limit of {max_pixels} pixels (not decoded)")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ProtocolError(f"{what}: payload of {len(data)} bytes is not a decodable image")
    if img.shape[:2] != (h, w):
        raise ProtocolError(f"{what}: decodes to {img.shape[1]}x{img.shape[0]}, its header says {w}x{h}")
    return np.ascontiguousarray(img[:, :, ::-1])


def max_frames(case_frames: int) -> int:
    """How many frames a server may send for a case of ``case_frames`` frames."""
    return case_frames + max(EXTRA_FRAMES_MIN, int(EXTRA_FRAMES_FRACTION * case_frames))


def clean_stats(stats: Any) -> tuple[dict[str, float], list[str]]:
    """The plausible figures of a server's ``end.stats`` and a note for each one dropped."""
    import math

    if not isinstance(stats, dict):
        return {}, ([f"server stats ignored: not an object ({type(stats).__name__})"] if stats is not None else [])
    clean: dict[str, float] = {}
    notes: list[str] = []
    for key in STATS_KEYS:
        v = stats.get(key)
        if v is None:
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= MAX_MEMORY_MB:
            clean[key] = float(v)
        else:
            notes.append(f"server stat {key}={str(v)[:40]} dropped: not a number of MB in [0, {MAX_MEMORY_MB:.0f}]")
    unknown = [str(k)[:40] for k in stats if k not in STATS_KEYS]
    if unknown:
        notes.append(f"server stats ignored (unknown): {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}")
    return clean, notes


# -- case metadata --------------------------------------------------------------------------------
def case_meta(case: Case) -> dict[str, Any]:
    """The case as sent in ``hello``: :meth:`Case.to_dict` without local file paths."""
    d = case.to_dict()
    d["references"] = [Path(p).name for p in d["references"]]
    d["agent_audio"] = bool(case.agent_audio)
    d["partner_audio"] = bool(case.partner_audio)
    return d


def case_from_meta(meta: dict[str, Any], reference_paths: list[Path]) -> Case:
    """Rebuild a :class:`Case` on the server side, its references saved to ``reference_paths``.

    Audio paths are None: in a stream the audio arrives in chunks."""
    try:
        char = Character(str(meta.get("character", "character")), str(meta.get("style", "photoreal")),
                         tuple(reference_paths))
        prompts = tuple(PromptEvent(float(p["start"]), float(p["end"]), p.get("action"), p.get("text"))
                        for p in meta.get("prompts", []))
        return Case(id=str(meta["id"]), mode=str(meta.get("mode", "speak")), character=char,
                    duration=float(meta["duration"]), fps=float(meta.get("fps", 25)),
                    width=int(meta.get("width", 512)), height=int(meta.get("height", 512)), prompts=prompts,
                    language=meta.get("language"), transcript=meta.get("transcript"),
                    partner_transcript=meta.get("partner_transcript"), tags=tuple(meta.get("tags", [])),
                    suite=str(meta.get("suite", "")))
    except (KeyError, TypeError, ValueError) as e:
        raise ProtocolError(f"hello: case metadata is missing or has a bad field: {e!r}") from None
