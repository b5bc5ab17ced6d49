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

PROTOCOL = "lpmbench-stream"
VERSION = 1
_LEN = struct.Struct(">I")
MAX_HEADER = 1 << 20  # a header above 1 MiB is malformed, whatever it says


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
        except json.JSONDecodeError as e:
            raise ProtocolError(f"text message is not JSON ({e.msg}): {message[:80]!r}") from None
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
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ProtocolError(f"binary message header is not JSON: {e}") from None
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


def decode_image(data: bytes, what: str = "image") -> np.ndarray:
    """RGB uint8 from encoded bytes (JPEG, PNG, ...); :class:`ProtocolError` when undecodable."""
    import cv2

    if not data:
        raise ProtocolError(f"{what}: empty payload")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ProtocolError(f"{what}: payload of {len(data)} bytes is not a decodable image")
    return np.ascontiguousarray(img[:, :, ::-1])


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
