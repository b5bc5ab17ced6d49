"""Speech synthesis behind one interface, resampling to lpmbench's 16 kHz mono, and
byte-reproducible Ogg Vorbis files.

A voice is a frozen dataclass with ``render(text) -> (samples, rate)``, ``describe()`` (the
exact synthesis parameters, written into timelines.json) and ``engine()`` (the synthesiser and
model file that made it, written into the asset sources). :func:`synthesize` turns any voice's
output into a trimmed, peak-normalised 16 kHz utterance. Back ends: :class:`Voice` (Debian's
espeak-ng, this module) and the neural voices of :mod:`suitegen.neural` (Piper, Kokoro).

Only ``scripts/make_suites.py`` needs a synthesiser; the harness reads the committed .ogg files.
"""
from __future__ import annotations

import functools
import io
import shutil
import struct
import subprocess
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

RATE = 16000  # lpmbench.case.AUDIO_RATE
PEAK = 0.7  # every utterance is peak-normalised to this, so loudness does not depend on the voice


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice and prosody: ``name`` as accepted by ``espeak-ng -v`` (language+variant)."""

    name: str
    speed: int = 160  # words per minute (-s)
    pitch: int = 50  # 0-99 (-p)
    amplitude: int = 100  # 0-200 (-a)
    gain: float = 1.0  # applied after peak normalisation (a quieter, sad voice)

    def args(self) -> list[str]:
        return ["-v", self.name, "-s", str(self.speed), "-p", str(self.pitch), "-a", str(self.amplitude)]

    def describe(self) -> str:
        extra = f" gain={self.gain:g}" if self.gain != 1.0 else ""
        return f"espeak-ng -v {self.name} -s {self.speed} -p {self.pitch} -a {self.amplitude}{extra}"

    def engine(self) -> str:
        return espeak_version()

    def with_prosody(self, *, speed: int | None = None, pitch: int | None = None, amplitude: int | None = None) -> "Voice":
        return Voice(self.name, speed or self.speed, self.pitch if pitch is None else pitch, amplitude or self.amplitude, self.gain)

    def emote(self, rate: float = 1.0, pitch: float = 1.0, range: float = 1.0, gain: float = 1.0, expressive: float = 1.0) -> "Voice":
        """An emotion's prosody (see suitegen.standard.EMOTIONS): espeak-ng has only rate, a base
        pitch and loudness; ``range`` and ``expressive`` have no espeak-ng equivalent."""
        p = int(round(min(99, max(0, self.pitch + 60 * np.log2(pitch)))))
        return Voice(self.name, int(round(self.speed * rate)), p, self.amplitude, round(self.gain * gain, 3))

    def render(self, text: str) -> tuple[np.ndarray, int]:
        proc = subprocess.run(["espeak-ng", *self.args(), "--stdout", text], capture_output=True, check=False)
        if proc.returncode != 0 or not proc.stdout:
            raise RuntimeError(f"espeak-ng failed for voice {self.name!r}: {proc.stderr.decode(errors='replace')}")
        wav, rate = sf.read(io.BytesIO(proc.stdout), dtype="float32")
        return (wav.mean(axis=1) if wav.ndim > 1 else wav), rate


def espeak_version() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (Debian: apt-get install espeak-ng); it is needed only to regenerate suites")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split()[:4])  # "eSpeak NG text-to-speech: 1.51"


def to_rate(x: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Polyphase resampling of mono float audio from ``rate`` to ``target`` Hz."""
    if rate == target:
        return np.asarray(x, np.float32)
    g = gcd(target, rate)
    return resample_poly(x, target // g, rate // g).astype(np.float32)


@functools.lru_cache(maxsize=None)
def synthesize(text: str, voice) -> np.ndarray:
    """Speak ``text`` with ``voice`` (any back end); returns mono float32 at 16 kHz,
    peak-normalised (times the voice's gain), with leading/trailing silence trimmed so
    timelines place speech where they say."""
    if not text.strip():
        raise ValueError("synthesize: empty text")
    wav, rate = voice.render(text)
    x = trim_silence(to_rate(wav, rate))
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak <= 0:
        raise RuntimeError(f"{voice.describe()} produced silence for {text!r}")
    y = (x * (PEAK / peak)).astype(np.float32)
    gain = getattr(voice, "gain", 1.0)
    return y if gain == 1.0 else (y * np.float32(gain)).astype(np.float32)


def trim_silence(x: np.ndarray, threshold: float = 1e-3, pad_s: float = 0.02) -> np.ndarray:
    """Cut leading and trailing samples quieter than ``threshold``, keeping ``pad_s`` of margin."""
    loud = np.flatnonzero(np.abs(x) > threshold)
    if loud.size == 0:
        return x[:0]
    pad = int(pad_s * RATE)
    return x[max(0, loud[0] - pad) : loud[-1] + pad + 1]


def write_ogg(x: np.ndarray, path: Path, serial: int = 0x4C504D42) -> None:
    """Write mono 16 kHz Ogg Vorbis with a fixed stream serial number.

    libsndfile picks a random Ogg serial number for every file, so identical audio would give
    different bytes (and a different suite content hash) on every run; we rewrite it, and each
    page's CRC, to make the files reproducible.
    """
    x = np.asarray(x, np.float32)
    buf = io.BytesIO()
    # Blocked writes: libsndfile 1.2's Vorbis encoder crashes on one very long write (minutes).
    with sf.SoundFile(buf, "w", RATE, 1, format="OGG", subtype="VORBIS") as f:
        for i in range(0, len(x), RATE):
            f.write(x[i : i + RATE])
    data = set_ogg_serial(buf.getvalue(), serial)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _ogg_crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _ogg_crc_table()


def ogg_crc(data: bytes) -> int:
    """The Ogg page checksum (CRC-32, polynomial 0x04C11DB7, no reflection, initial value 0)."""
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[((crc >> 24) & 0xFF) ^ b]
    return crc


def set_ogg_serial(data: bytes, serial: int) -> bytes:
    """Return the Ogg stream ``data`` with every page's serial number set to ``serial``."""
    out = bytearray(data)
    pos = 0
    while pos < len(out):
        if out[pos : pos + 4] != b"OggS":
            raise ValueError(f"not an Ogg page at byte {pos}")
        n_segments = out[pos + 26]
        body = sum(out[pos + 27 : pos + 27 + n_segments])
        end = pos + 27 + n_segments + body
        out[pos + 14 : pos + 18] = struct.pack("<I", serial)
        out[pos + 22 : pos + 26] = b"\0\0\0\0"
        out[pos + 22 : pos + 26] = struct.pack("<I", ogg_crc(bytes(out[pos:end])))
        pos = end
    return bytes(out)
