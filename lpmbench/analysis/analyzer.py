"""The analysis pass: decode a video once (streaming), compute the shared features, cache them.

A video is read as a generator or camera made it: at its own frame rate (features are computed
at the video's rate; the case's is only what was asked for), on the uniform grid of its frame
timestamps (:func:`lpmbench.media.timeline`: variable frame rate is resampled to its mean rate
by nearest timestamp), upright (rotation metadata applied), at any size. Its length may differ
from the case's by ``AnalysisConfig.length_tolerance_s``: a longer video is analysed up to the
case's duration, a shorter one as it is, with the case audio's features cut to match.

Per frame, on the analysis thread, every stage in order (one life cycle for all, see
extractors.py): the face track, whose face observation the others read, then geometry (landmark
signals, rigid-landmark head pose, Procrustes alignment), gaze, low-resolution image features and
audio (the core stages, stages.py), then every enabled extractor (identity embeddings, SyncNet,
CLIP, FID Inception). Decoding runs one frame ahead in a thread, silero-vad runs on the case audio in
another, and identity embeddings run in worker processes (see identity.py), so the pass uses
every core. Memory is flat in video length: frames are never kept, only per-frame rows.

Why this shape (measured on 2 shared cores, 512x512 at 25 fps): the dlib descriptor costs ~95 ms
of CPU per face and holds the GIL, so it runs at exactly the >= 5 Hz schedule in processes; HOG
detection (~10 ms) runs every ``detect_every`` frames, inside a window around the track; OpenCV
and PyAV release the GIL. About 29 ms of CPU per frame in all, ~2.7x real time on an idle machine.
An Analyzer runs one video at a time (not thread-safe); use one per process or thread.

``Features.meta`` of every result, computed or cached, carries the video's facts so that callers
never probe or hash the video again: ``cache_key``, ``cache_hit``, ``video`` (this call's path),
``video_sha256``, ``case_inputs_sha256``, ``fps``, ``n_frames``, ``duration``, ``width``,
``height``; and from the pass that computed it: ``analyzer_version``, ``config``, ``case_id``,
``requested_fps`` (the case's), ``timeline`` (``kind`` constant | gaps | variable,
``source_frames``, ``decoded``, ``duplicated``, ``dropped``, ``start_s``, ``container_fps``),
``length_mismatch_s`` (video minus case duration, before truncation), ``frames_not_analysed``
(past the case's end), ``rotation`` (degrees), ``soundtrack`` (the video's own audio against the
case's, :func:`~.audio.soundtrack_match`), ``faces_max`` and ``face_choice`` (several faces:
which one the track followed), ``warnings`` (one line each, for the user), ``embed_stride``,
``device``, ``aligned_target``, ``pose_origin``, ``face_frames``, ``detections``,
``frames_per_s`` and ``timings_s`` (seconds: ``references``, ``begin.<stage>``, ``frames``,
``frames.decode_wait``, ``frames.<stage>``, ``end.<stage>``, ``audio.vad`` and
``audio.soundtrack`` (the audio thread), ``total``; a stage is a core stage or an extractor, by
name).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .. import media
from ..case import AUDIO_RATE, Case
from ..features import Features
from ..media import MediaError
from ..registry import EXTRACTORS
from . import ANALYZER_VERSION
from .audio import load_case_audio
from .config import AnalysisConfig
from .extractors import IDENTITY_FEATURES, Extractor, ExtractorContext, Unavailable
from .stages import LANDMARKS_BACKEND, VAD_BACKEND, VIDEO_FEATURES, Stage, core_stages, pkg_version

Progress = Callable[[int, int], None]


class VideoMismatchError(MediaError):
    """The video's length differs from its case's by more than the tolerance."""


# -- frames ---------------------------------------------------------------------------------------
def _prefetch(it, depth: int = 4):
    """Run an iterator in a thread, ``depth`` items ahead (PyAV and numpy release the GIL)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def pump():
        try:
            for x in it:
                while not stop.is_set():
                    try:
                        q.put(x, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(end)
        except BaseException as e:  # re-raised on the consumer's side
            q.put(e)
        finally:
            close = getattr(it, "close", None)
            if close:
                close()

    t = threading.Thread(target=pump, name="lpmbench-decode", daemon=True)
    t.start()
    try:
        while True:
            x = q.get()
            if x is end:
                return
            if isinstance(x, BaseException):
                raise x
            yield x
    finally:
        stop.set()
        t.join(timeout=5)


@contextlib.contextmanager
def _frames(path: Path, case: Case, info: media.VideoInfo, tl: media.Timeline, n: int,
            threads: int) -> Iterator[tuple[media.GridFrames, Iterator[tuple[int, np.ndarray]]]]:
    """The grid (its counters) and its (idx, rgb) for idx < n, decoded ahead in a thread that
    stops on leaving, also on error; a frame of another size than the probed one is a MediaError."""
    grid = media.GridFrames(media.decode(path, threads=threads), tl, n)
    frames = _prefetch(iter(grid))

    def checked():
        for idx, rgb in frames:
            if rgb.shape[0] != info.height or rgb.shape[1] != info.width:
                raise MediaError(f"case {case.id!r}: {path.name} frame {idx} is {rgb.shape[1]}x{rgb.shape[0]}, "
                                 f"its first frame {info.width}x{info.height}")
            yield idx, rgb

    try:
        yield grid, checked()
    finally:
        frames.close()


@contextlib.contextmanager
def _progress(progress: bool | Progress | None, case: Case, total: int) -> Iterator[Callable[[int], None]]:
    """A tick(frames_done) for ``progress``: True = a tqdm bar, a callable, or nothing."""
    if progress is True:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=f"analyse {case.id}", unit="frame", leave=False)
        try:
            yield lambda n: bar.update(1)
        finally:
            bar.close()
    elif callable(progress):
        yield lambda n: progress(n, total)
    else:
        yield lambda n: None


@contextlib.contextmanager
def _cv2_threads(n: int) -> Iterator[None]:
    import cv2

    old = cv2.getNumThreads()
    cv2.setNumThreads(max(1, n))
    try:
        yield
    finally:
        cv2.setNumThreads(old)


# -- one video's run of the stages ----------------------------------------------------------------
class _Pass:
    """Runs the stages over one video: life cycle, per-stage times, merged results.

    The first stage is the face track: its ``frame`` returns the observation every later stage
    reads. A core stage that raises stops the pass; an extractor that raises (or is unavailable)
    is dropped and its features are recorded as unavailable with the reason.
    """

    def __init__(self, core: list[Stage]):
        self.track, self.core = core[0], core
        self.stages: list[tuple[str, Extractor]] = []  # (name, stage) running after the track
        self.values: dict[str, Any] = {}
        self.unavailable: dict[str, str] = {}
        self.backends: dict[str, dict[str, Any]] = {}
        self.timings: dict[str, float] = defaultdict(float)

    def _lap(self, label: str, t: float) -> float:
        now = time.perf_counter()
        self.timings[label] += now - t
        return now

    # -- begin ------------------------------------------------------------------------------------
    def begin(self, ctx: ExtractorContext, extractors: list[tuple[str, Extractor | Exception]], identity: str) -> None:
        self.ctx = ctx
        for st in self.core:
            t = time.perf_counter()
            st.begin(ctx)
            self._lap(f"begin.{st.name}", t)
            if st.backend:
                self.backends[st.backend] = st.backend_info()
        self.stages = [(st.name, st) for st in self.core[1:]]
        for name, ex in extractors:
            t = time.perf_counter()
            self._start(name, ex, identity)
            self._lap(f"begin.{name}", t)

    def _start(self, name: str, ex: Extractor | Exception, identity: str) -> None:
        if isinstance(ex, Exception):  # its class could not be found or constructed
            reason = f"extractor {name!r} cannot be loaded: {type(ex).__name__}: {ex}"
            self.backends[name] = {"name": name, "available": False, "reason": reason}
            for k in IDENTITY_FEATURES if name == identity else ():
                self.unavailable[k] = reason
            return
        try:
            reason = ex.availability()
        except Exception as e:
            reason = f"{type(e).__name__}: {e}"
        if reason is not None:
            self.backends[name] = {"name": name, "available": False, "reason": reason}
            for k in ex.provides:
                self.unavailable[k] = reason
            return
        try:
            self.backends[name] = {**ex.backend_info(), "available": True, "reason": None}
            ex.begin(self.ctx)
        except Exception as e:
            self._fail(name, ex, "begin", e)
            return
        self.stages.append((name, ex))

    def _fail(self, name: str, ex: Extractor, stage: str, exc: Exception) -> None:
        if isinstance(ex, Stage):
            raise exc
        self.stages = [(n, s) for n, s in self.stages if s is not ex]
        reason = f"extractor {name!r} failed in {stage}: {type(exc).__name__}: {exc}"
        self.backends[name] = {**self.backends.get(name, {"name": name}), "available": False, "reason": reason,
                               "failed": True}
        for k in ex.provides:
            self.unavailable[k] = reason

    # -- frames -----------------------------------------------------------------------------------
    def run(self, frames: Iterator[tuple[int, np.ndarray]], tick: Callable[[int], None]) -> int:
        """Every stage on every frame; the number of frames."""
        n = 0
        t = time.perf_counter()
        for idx, rgb in frames:
            t = self._lap("frames.decode_wait", t)
            face = self.track.frame(idx, rgb, None)
            t = self._lap(f"frames.{self.track.name}", t)
            for name, st in self.stages:
                try:
                    st.frame(idx, rgb, face)
                except Exception as e:
                    self._fail(name, st, "frame", e)
                t = self._lap(f"frames.{name}", t)
            n = idx + 1
            tick(n)
        return n

    # -- end --------------------------------------------------------------------------------------
    def end(self, n: int) -> dict[str, Any]:
        """Merge every stage's results (later stages win); returns the core stages' run facts."""
        self.ctx.n_frames = n
        for name, st in [(self.track.name, self.track), *self.stages]:
            t = time.perf_counter()
            try:
                out = st.end()
            except Exception as e:
                self._fail(name, st, "end", e)
                continue
            finally:
                self._lap(f"end.{name}", t)
            for k, v in out.items():
                if isinstance(v, Unavailable):
                    self.unavailable[k] = v.reason
                    self.values.pop(k, None)
                else:
                    self.values[k] = v
                    self.unavailable.pop(k, None)
        facts: dict[str, Any] = {}
        for st in self.core:
            facts.update(st.meta())
            self.timings.update({f"{st.name}.{k}": v for k, v in st.timings().items()})
        return facts


# -- the analyzer ---------------------------------------------------------------------------------
class Analyzer:
    """Computes (or loads from the cache) the :class:`~lpmbench.features.Features` of a video.

    Heavy models load lazily on first use and are shared by every video this Analyzer sees.
    Call :meth:`close` (or use it as a context manager) to stop the embedding worker processes.
    """

    def __init__(self, config: AnalysisConfig | None = None, cache_dir: str | Path | None = None):
        self.config = config or AnalysisConfig()
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._core = core_stages(self.config)
        self._extractors: dict[str, Extractor] = {}
        self._hash_memo: dict[tuple[str, int, int], str] = {}

    # -- lifecycle --------------------------------------------------------------------------------
    def close(self) -> None:
        for ex in [*self._extractors.values(), *self._core]:
            try:
                ex.close()
            except Exception:
                pass
        self._extractors.clear()

    def __enter__(self) -> "Analyzer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # -- provenance and cache -----------------------------------------------------------------------
    def extractor_names(self) -> list[str]:
        names = [self.config.identity_backend] + [n for n in self.config.extractors if n != self.config.identity_backend]
        return list(dict.fromkeys(names))

    def _extractor(self, name: str) -> Extractor:
        """The extractor for a registered name or a ``"module:Class"`` target, constructed once."""
        if name not in self._extractors:
            cls = EXTRACTORS.resolve(name)
            self._extractors[name] = cls(**_constructor_kwargs(cls, self.config))
        return self._extractors[name]

    def describe(self) -> dict[str, Any]:
        """Analyzer version, protocol config and every backend with its version and weights hash."""
        import cv2
        import dlib

        from .face import dlib_models_dir

        backends: dict[str, Any] = {
            "landmarks": {"name": LANDMARKS_BACKEND, "dlib": dlib.__version__,
                          "weights_sha256": _cached_sha(dlib_models_dir() / "shape_predictor_68_face_landmarks.dat")},
            "vad": {"name": VAD_BACKEND, "version": pkg_version("silero-vad")},
            "opencv": {"name": "opencv", "version": cv2.__version__},
        }
        for name in self.extractor_names():
            try:
                ex = self._extractor(name)
                reason = ex.availability()
                info = ex.backend_info() if reason is None else {"name": name}
                backends[name] = {**info, "available": reason is None, "reason": reason}
            except Exception as e:
                backends[name] = {"name": name, "available": False, "reason": f"{type(e).__name__}: {e}"}
        return {"analyzer_version": ANALYZER_VERSION, "config": self.config.protocol_dict(), "backends": backends}

    def _file_hash(self, path: Path) -> str:
        st = path.stat()
        k = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        if k not in self._hash_memo:
            self._hash_memo[k] = media.file_sha256(path)
        return self._hash_memo[k]

    def case_inputs_sha256(self, case: Case) -> str:
        """Hash of what the analysis reads from the case: references, audio, prompts, timing."""
        h = hashlib.sha256()
        spec = {"duration": case.duration, "fps": case.fps, "width": case.width, "height": case.height,
                "prompts": [p.to_dict() for p in case.prompts]}
        h.update(json.dumps(spec, sort_keys=True).encode())
        for label, paths in (("ref", list(case.character.references)), ("agent", [case.agent_audio]),
                             ("partner", [case.partner_audio])):
            for p in paths:
                h.update(f"{label}:{self._file_hash(Path(p)) if p else 'none'};".encode())
        return h.hexdigest()

    def cache_key(self, video_path: str | Path, case: Case) -> str:
        """sha256 of (video content, analyzer version, protocol config, extractor versions, case inputs)."""
        video_path = Path(video_path)
        if not video_path.is_file():
            raise MediaError(f"video file not found: {video_path}")
        ex_versions = {}
        for n in self.extractor_names():
            try:
                ex = self._extractor(n)
                ready = ex.availability() is None
                # weights installed (or replaced) later must not be served stale cached features
                ex_versions[n] = [getattr(ex, "version", "?"), ready,
                                  ex.backend_info().get("weights_sha256") if ready else None]
            except Exception as e:  # a missing backend module: still a distinct, stable key
                ex_versions[n] = f"unresolvable: {type(e).__name__}"
        spec = {"video": self._file_hash(video_path), "analyzer": ANALYZER_VERSION,
                "config": self.config.protocol_dict(), "extractors": ex_versions,
                "case": self.case_inputs_sha256(case)}
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        return self.cache_dir / key[:2] / f"{key}.npz" if self.cache_dir is not None else None

    def load_cached(self, key: str) -> Features | None:
        """The cached features for ``key``, or None (no cache, missing or unreadable entry)."""
        p = self._cache_path(key)
        if p is None or not p.is_file():
            return None
        try:
            return Features.load(p)
        except Exception:
            return None  # a damaged entry is recomputed and overwritten

    def _video_meta(self, key: str, path: Path, case: Case, feats: Features, hit: bool) -> dict[str, Any]:
        """The meta keys of every result, cached or not: what callers would otherwise probe or hash."""
        return {"cache_key": key, "cache_hit": hit, "video": str(path), "video_sha256": self._file_hash(path),
                "case_inputs_sha256": self.case_inputs_sha256(case), **{k: feats.values[k] for k in VIDEO_FEATURES}}

    # -- the pass ------------------------------------------------------------------------------------
    def run(self, video_path: str | Path, case: Case, progress: bool | Progress | None = None) -> Features:
        """Features of ``video_path`` for ``case``, from the cache when possible.

        Raises :class:`~lpmbench.media.MediaError` (one line) for a missing, empty, corrupt or
        oversized video, an image that is not a video, or fewer than two frames, and
        :class:`VideoMismatchError` when its length differs from the case's by more than
        ``length_tolerance_s``. ``progress``: True for a tqdm bar, or a callable(frames_done,
        frames_expected).
        """
        t0 = time.perf_counter()
        video_path = Path(video_path)
        key = self.cache_key(video_path, case)
        cached = self.load_cached(key)
        if cached is not None:  # it passed the checks below when it was computed: same key, same inputs
            cached.meta.update(self._video_meta(key, video_path, case, cached, hit=True))
            return cached
        info = media.probe(video_path)
        tl = media.timeline(video_path)
        n = self._frames_to_analyse(tl, case, video_path)
        feats = self._analyze(video_path, info, tl, n, case, progress)
        feats.meta.update(self._video_meta(key, video_path, case, feats, hit=False))
        feats.meta["timings_s"]["total"] = time.perf_counter() - t0
        p = self._cache_path(key)
        # an extractor that crashed may succeed next time: never cache a failure
        if p is not None and not any(b.get("failed") for b in feats.backends.values()):
            feats.save(p)
        return feats

    def _frames_to_analyse(self, tl: media.Timeline, case: Case, path: Path) -> int:
        """Grid frames to analyse: up to the case's end; a VideoMismatchError beyond the tolerance."""
        tol = self.config.length_tolerance_s
        if abs(tl.duration - case.duration) > tol:
            raise VideoMismatchError(
                f"case {case.id!r}: video {path.name} lasts {tl.duration:.2f} s ({tl.n_frames} frames at "
                f"{tl.fps:.4g} fps), case asks {case.duration:g} s (tolerance {tol:g} s)")
        return min(tl.n_frames, max(media.MIN_FRAMES, int(round(case.duration * tl.fps))))

    def _context(self, path: Path, info: media.VideoInfo, tl: media.Timeline, n: int, case: Case) -> ExtractorContext:
        """What every stage knows before the first frame: references (with their faces), audio, schedule."""
        cfg = self.config
        imgs = []
        for p in case.character.references:
            try:
                imgs.append(media.load_image(p))
            except MediaError as e:
                raise MediaError(f"case {case.id!r}, character {case.character.id!r}: {e}") from None
        boxes, lms = self._core[0].reference_faces(imgs)  # the face track
        audio = load_case_audio(case)
        if n / tl.fps < case.duration:  # a shorter video: its audio features end where it ends
            keep = int(round(n / tl.fps * AUDIO_RATE))
            audio = {k: None if x is None else x[:keep] for k, x in audio.items()}
        return ExtractorContext(
            case=case, fps=tl.fps, width=info.width, height=info.height, n_frames_expected=n,
            reference_images=imgs, reference_landmarks=lms, reference_boxes=boxes,
            agent_audio=audio["agent"], partner_audio=audio["partner"], config=cfg,
            device=_device(cfg.device, torch_needed=any(x != "dlib" for x in self.extractor_names())),
            embed_stride=max(1, int(np.floor(tl.fps / cfg.embed_hz + 1e-9))), video=path,
            video_has_audio=info.has_audio)

    def _analyze(self, path: Path, info: media.VideoInfo, tl: media.Timeline, n_want: int, case: Case,
                 progress) -> Features:
        cfg = self.config
        t = time.perf_counter()
        ctx = self._context(path, info, tl, n_want, case)
        references_s = time.perf_counter() - t
        extractors: list[tuple[str, Extractor | Exception]] = []
        for name in self.extractor_names():
            try:
                extractors.append((name, self._extractor(name)))
            except Exception as e:
                extractors.append((name, e))
        run = _Pass(self._core)
        run.begin(ctx, extractors, cfg.identity_backend)
        t = time.perf_counter()
        with _frames(path, case, info, tl, n_want, cfg.decode_threads) as (grid, frames), \
                _progress(progress, case, n_want) as tick, _cv2_threads(cfg.cv2_threads):
            n = run.run(frames, tick)
        frames_s = time.perf_counter() - t
        if grid.decoded < media.MIN_FRAMES:
            raise MediaError(f"case {case.id!r}: {path.name} has {grid.decoded} decodable video frame(s); "
                             f"a video needs at least {media.MIN_FRAMES}")
        run.values.update({"fps": float(tl.fps), "n_frames": int(n), "width": int(info.width),
                           "height": int(info.height), "duration": n / float(tl.fps)})
        facts = run.end(n)
        timings = {"references": references_s, **run.timings, "frames": frames_s}
        video = {"requested_fps": float(case.fps), "rotation": info.rotation,
                 "timeline": {"kind": tl.kind, "source_frames": tl.source_frames, "decoded": grid.decoded,
                              "duplicated": grid.duplicated, "dropped": grid.dropped, "start_s": round(tl.start_s, 6),
                              "container_fps": round(info.fps, 6)},
                 "length_mismatch_s": round(tl.duration - case.duration, 4), "frames_not_analysed": tl.n_frames - n}
        meta = {"analyzer_version": ANALYZER_VERSION, "config": cfg.protocol_dict(), "case_id": case.id, **video,
                "embed_stride": ctx.embed_stride, **facts, "timings_s": timings,
                "frames_per_s": n / max(frames_s, 1e-9), "device": ctx.device}
        meta["warnings"] = video_warnings(meta, float(tl.fps))
        return Features(values=run.values, unavailable=run.unavailable, backends=run.backends, meta=meta)


def video_warnings(meta: dict[str, Any], fps: float) -> list[str]:
    """One line for each way the video differs from what its case asked for, from a pass's meta."""
    out = []
    if abs(fps - meta["requested_fps"]) > 1e-3 * meta["requested_fps"]:
        out.append(f"video is {fps:.4g} fps, the case asked for {meta['requested_fps']:.4g} fps: analysed at the video's rate")
    tl = meta["timeline"]
    if tl["kind"] != "constant" or tl["duplicated"] or tl["dropped"]:
        what = {"gaps": "frames missing from a constant rate", "variable": "variable frame rate"}.get(
            tl["kind"], "repeated or out-of-order frame timestamps")
        out.append(f"{what}: read on a uniform {fps:.4g} fps grid by nearest timestamp "
                   f"({tl['duplicated']} frame(s) repeated, {tl['dropped']} dropped)")
    d = meta["length_mismatch_s"]
    if d < -0.5 / fps:
        out.append(f"video is {-d:.2f} s shorter than the case: the case audio's features are cut to match")
    elif meta["frames_not_analysed"]:
        out.append(f"video is {d:.2f} s longer than the case: its last {meta['frames_not_analysed']} frame(s) are not analysed")
    if meta["rotation"]:
        out.append(f"video carries a {meta['rotation']} deg rotation: analysed upright, as a player shows it")
    st = meta.get("soundtrack") or {}
    verdict = st.get("verdict")
    if verdict == "offset":
        late = "late" if st["offset_s"] > 0 else "early"
        out.append(f"the video's own soundtrack is {abs(st['offset_s']) * 1000:.0f} ms {late} against the case's "
                   f"{st['track']} audio (envelope r {st['r']:.2f}); the case audio is what is scored")
    elif verdict == "other":
        out.append(f"the video's own soundtrack is not the case's audio (best envelope r {st['r']:.2f}); "
                   "the case audio is what is scored")
    elif verdict == "unreadable":
        out.append(f"the video's own soundtrack could not be read ({st.get('error')})")
    if meta.get("faces_max", 0) > 1:
        out.append(f"up to {meta['faces_max']} faces in a frame: the track followed {meta['face_choice']}")
    return out


_SHA_MEMO: dict[str, str] = {}


def _cached_sha(path: Path) -> str:
    if str(path) not in _SHA_MEMO:
        _SHA_MEMO[str(path)] = media.file_sha256(path)
    return _SHA_MEMO[str(path)]


def _constructor_kwargs(cls: type, cfg: AnalysisConfig) -> dict[str, Any]:
    """Config values an extractor's constructor accepts (weights_dir, model_name), when set."""
    import inspect

    offered = {"weights_dir": cfg.weights_dir, "model_name": cfg.clip_model if "clip" in cls.__name__.lower() else None}
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return {}
    return {k: v for k, v in offered.items() if v is not None and k in params}


def _device(wanted: str, torch_needed: bool) -> str:
    """"cuda" when asked for (or "auto") and present; importing torch only when an extractor uses it."""
    if wanted == "cpu" or not torch_needed:
        return "cpu"
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:
        return "cpu"
