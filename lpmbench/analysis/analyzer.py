"""The analysis pass: decode a video once (streaming), compute the shared features, cache them.

Per frame, on the main thread: face tracking (HOG every few frames, 68 landmarks in between),
landmark signals, rigid-landmark head pose, Procrustes alignment, low-resolution image features,
then every enabled extractor. Decoding runs one frame ahead in a thread, silero-vad runs on the
case audio in another, and identity embeddings run in worker processes (see identity.py), so the
pass uses every core. Memory is flat in video length: frames are never kept, only per-frame rows.

Why this shape (measured on 2 shared cores, 512x512 at 25 fps): the dlib descriptor costs ~95 ms
of CPU per face and holds the GIL, so it runs at exactly the >= 5 Hz schedule in processes; HOG
detection (~10 ms) runs every ``detect_every`` frames, inside a window around the track; OpenCV
and PyAV release the GIL. About 29 ms of CPU per frame in all, ~2.7x real time on an idle machine.
An Analyzer runs one video at a time (not thread-safe); use one per process or thread.
"""
from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import media
from ..case import AUDIO_RATE, Case
from ..features import Features
from ..media import MediaError
from . import ANALYZER_VERSION
from .audio import rms_envelope, segments_to_frames, state_timeline, vad_segments
from .config import AnalysisConfig
from .extractors import IDENTITY_FEATURES, Extractor, ExtractorContext, FaceObs, Unavailable, resolve_extractor
from .face import FaceTracker, PoseEstimator, align_to, eye_centres, face_signals, iod, reference_landmarks, relative_euler
from .image import ImageFeatures, laplacian_sharpness

# Features that exist only where a face was found; unavailable (with the reason) otherwise.
FACE_FEATURES = ("face_box_px", "det_score", "landmarks_px", "iod_px", "mouth_open", "mouth_width", "ear", "brow",
                 "pose_deg", "aligned", "face_sharpness")
Progress = Callable[[int, int], None]


class VideoMismatchError(MediaError):
    """The video does not match its case (frame rate, frame count)."""


# -- small helpers --------------------------------------------------------------------------------
class _Rows:
    """A growable per-frame array (doubling capacity): O(T) small rows, never frames."""

    def __init__(self, shape: tuple[int, ...], dtype, fill, capacity: int):
        self.shape, self.dtype, self.fill = shape, dtype, fill
        self.a = np.full((max(capacity, 16), *shape), fill, dtype=dtype)

    def set(self, i: int, value) -> None:
        if i >= len(self.a):
            grown = np.full((2 * len(self.a), *self.shape), self.fill, dtype=self.dtype)
            grown[: len(self.a)] = self.a
            self.a = grown
        self.a[i] = value

    def take(self, n: int) -> np.ndarray:
        if n > len(self.a):
            self.set(n - 1, self.fill)
        # a view: the capacity is the expected length (+8), so a copy would only double the peak
        return self.a[:n] if len(self.a) - n <= 64 else self.a[:n].copy()


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


def _unwrap_deg(x: np.ndarray) -> np.ndarray:
    """np.unwrap over the finite entries of each column (degrees), NaN kept."""
    out = x.copy()
    for j in range(x.shape[1]):
        ok = np.isfinite(x[:, j])
        if ok.any():
            out[ok, j] = np.degrees(np.unwrap(np.radians(x[ok, j])))
    return out


class _AudioJob:
    """Loads the case audio and runs VAD in a thread while the frames are decoded."""

    def __init__(self, case: Case, config: AnalysisConfig):
        self.case, self.config = case, config
        self.result: dict[str, Any] = {}
        self.samples: dict[str, np.ndarray | None] = {}
        for role in ("agent", "partner"):
            path = getattr(case, f"{role}_audio")
            try:
                self.samples[role] = media.load_audio(path, AUDIO_RATE, duration=case.duration) if path else None
            except MediaError as e:
                raise MediaError(f"case {case.id!r}, field '{role}_audio': {e}") from None
        self.error: BaseException | None = None
        self.seconds = 0.0
        self._t = threading.Thread(target=self._run, name="lpmbench-vad", daemon=True)
        self._t.start()

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            c = self.config
            for role, x in self.samples.items():
                if x is not None:
                    self.result[role] = vad_segments(x, threshold=c.vad_threshold, min_speech_s=c.vad_min_speech_s,
                                                     min_silence_s=c.vad_min_silence_s)
        except BaseException as e:
            self.error = e
        self.seconds = time.perf_counter() - t0

    def features(self, fps: float, n: int) -> dict[str, Any]:
        self._t.join()
        if self.error is not None:
            raise RuntimeError(f"case {self.case.id!r}: voice activity detection failed: {self.error}") from self.error
        out: dict[str, Any] = {}
        for role in ("agent", "partner"):
            x = self.samples[role]
            out[f"has_{role}_audio"] = x is not None
            out[f"{role}_env"] = rms_envelope(x, fps, n) if x is not None else np.zeros(n, np.float32)
            seg = self.result.get(role, np.zeros((0, 2)))
            out[f"{role}_segments"] = seg.astype(np.float64)
            out[f"{role}_vad"] = segments_to_frames(seg, fps, n)
        out["state"] = state_timeline(out["agent_vad"], out["partner_vad"])
        return out


# -- the analyzer ---------------------------------------------------------------------------------
class Analyzer:
    """Computes (or loads from the cache) the :class:`~lpmbench.features.Features` of a video.

    Heavy models load lazily on first use and are shared by every video this Analyzer sees.
    Call :meth:`close` (or use it as a context manager) to stop the embedding worker processes.
    """

    def __init__(self, config: AnalysisConfig | None = None, cache_dir: str | Path | None = None):
        self.config = config or AnalysisConfig()
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._tracker: FaceTracker | None = None
        self._extractors: dict[str, Extractor] = {}
        self._hash_memo: dict[tuple[str, int, int], str] = {}

    # -- lifecycle --------------------------------------------------------------------------------
    def close(self) -> None:
        for ex in self._extractors.values():
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
        if name not in self._extractors:
            cls = resolve_extractor(name)
            self._extractors[name] = cls(**_constructor_kwargs(cls, self.config))
        return self._extractors[name]

    def describe(self) -> dict[str, Any]:
        """Analyzer version, protocol config and every backend with its version and weights hash."""
        import cv2
        import dlib

        from .face import dlib_models_dir

        backends: dict[str, Any] = {
            "landmarks": {"name": "dlib HOG + shape_predictor_68_face_landmarks", "dlib": dlib.__version__,
                          "weights_sha256": _cached_sha(dlib_models_dir() / "shape_predictor_68_face_landmarks.dat")},
            "vad": {"name": "silero-vad", "version": _pkg_version("silero-vad")},
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

    # -- the pass ------------------------------------------------------------------------------------
    def run(self, video_path: str | Path, case: Case, progress: bool | Progress | None = None) -> Features:
        """Features of ``video_path`` for ``case``, from the cache when possible.

        Raises :class:`~lpmbench.media.MediaError` for a missing/empty/corrupt video and
        :class:`VideoMismatchError` when its frame rate or frame count does not match the case.
        ``progress``: True for a tqdm bar, or a callable(frames_done, frames_expected).
        """
        t0 = time.perf_counter()
        video_path = Path(video_path)
        info = media.probe(video_path)
        self._check_fps(info, case)
        if info.n_frames > 0:  # fail fast on a grossly wrong length (container counts can be estimates)
            self._check_frames(info.n_frames, case, video_path, slack=2.0)
        key = self.cache_key(video_path, case)
        cached = self.load_cached(key)
        if cached is not None:
            cached.meta["cache_hit"] = True
            return cached
        feats = self._analyze(video_path, info, case, progress)
        feats.meta.update({"cache_key": key, "cache_hit": False, "video_sha256": self._file_hash(video_path),
                           "case_inputs_sha256": self.case_inputs_sha256(case)})
        feats.meta["timings_s"]["total"] = time.perf_counter() - t0
        p = self._cache_path(key)
        # an extractor that crashed may succeed next time: never cache a failure
        if p is not None and not any(b.get("failed") for b in feats.backends.values()):
            feats.save(p)
        return feats

    def _check_fps(self, info: media.VideoInfo, case: Case) -> None:
        if not info.fps or abs(info.fps - case.fps) > self.config.fps_tolerance * case.fps:
            raise VideoMismatchError(f"case {case.id!r}: video {info.path.name} is {info.fps:g} fps, case asks {case.fps:g} fps")

    def _check_frames(self, n: int, case: Case, path: Path, slack: float = 1.0) -> None:
        want = case.n_frames
        tol = slack * max(self.config.frame_tolerance, self.config.frame_tolerance_rel * want)
        if abs(n - want) > tol:
            raise VideoMismatchError(
                f"case {case.id!r}: video {path.name} has {n} frames, case asks {want} "
                f"({case.duration:g} s at {case.fps:g} fps; tolerance {tol:g} frames)")

    def _references(self, case: Case, tracker: FaceTracker):
        imgs, lms, boxes = [], [], []
        for p in case.character.references:
            try:
                img = media.load_image(p)
            except MediaError as e:
                raise MediaError(f"case {case.id!r}, character {case.character.id!r}: {e}") from None
            box, lm = reference_landmarks(img, tracker)
            imgs.append(img)
            lms.append(lm)
            boxes.append(box)
        return imgs, lms, boxes

    def _analyze(self, path: Path, info: media.VideoInfo, case: Case, progress) -> Features:
        import cv2

        cfg = self.config
        timings: dict[str, float] = {}
        t = time.perf_counter()
        if self._tracker is None:
            self._tracker = FaceTracker(cfg.detect_every, cfg.detect_max_side, cfg.detect_upsample,
                                        cfg.detect_min_score, cfg.track_min_iou)
        tracker = self._tracker
        tracker.reset()
        ref_imgs, ref_lms, ref_boxes = self._references(case, tracker)
        tracker.reset()
        timings["references"] = time.perf_counter() - t

        audio = _AudioJob(case, cfg)
        fps, w, h = info.fps, info.width, info.height
        n_exp = case.n_frames
        stride = max(1, int(np.floor(fps / cfg.embed_hz + 1e-9)))
        device = _device(cfg.device, torch_needed=any(n != "dlib" for n in self.extractor_names()))
        ctx = ExtractorContext(case=case, fps=fps, width=w, height=h, n_frames_expected=n_exp,
                               reference_images=ref_imgs, reference_landmarks=ref_lms,
                               agent_audio=audio.samples["agent"], partner_audio=audio.samples["partner"],
                               config=cfg, device=device, embed_stride=stride)

        unavailable: dict[str, str] = {}
        backends: dict[str, dict[str, Any]] = {}
        active: dict[str, Extractor] = {}
        t = time.perf_counter()
        for name in self.extractor_names():
            self._start_extractor(name, ctx, active, unavailable, backends)
        timings["extractors_begin"] = time.perf_counter() - t

        # reference geometry: alignment target and pose origin (else the first tracked frame)
        ref_i = next((i for i, lm in enumerate(ref_lms) if lm is not None), None)
        target = ref_lms[ref_i].astype(np.float64) if ref_i is not None else None
        pose_ref_r = None
        if target is not None:
            rh, rw = ref_imgs[ref_i].shape[:2]
            got = PoseEstimator(rw, rh).rotation(target)
            pose_ref_r = got[0] if got else None
        pose = PoseEstimator(w, h)

        cap = n_exp + 8
        rows = {
            "face_present": _Rows((), bool, False, cap), "face_box_px": _Rows((4,), np.float32, np.nan, cap),
            "det_score": _Rows((), np.float32, np.nan, cap), "landmarks_px": _Rows((68, 2), np.float32, np.nan, cap),
            "iod_px": _Rows((), np.float32, np.nan, cap), "mouth_open": _Rows((), np.float32, np.nan, cap),
            "mouth_width": _Rows((), np.float32, np.nan, cap), "ear": _Rows((), np.float32, np.nan, cap),
            "brow": _Rows((), np.float32, np.nan, cap), "pose_deg": _Rows((3,), np.float64, np.nan, cap),
            "aligned": _Rows((68, 2), np.float32, np.nan, cap), "luma_flicker": _Rows((), np.float32, np.nan, cap),
            "body_flow": _Rows((), np.float32, np.nan, cap), "region_lab": _Rows((3,), np.float32, np.nan, cap),
            "face_sharpness": _Rows((), np.float32, np.nan, cap),
        }
        imgf = ImageFeatures(w, h, cfg.flow_size, cfg.face_dilate, cfg.static_flow_px, cfg.sharp_crop)
        stage = {"decode_wait": 0.0, "track": 0.0, "geometry": 0.0, "image": 0.0, "extractors": 0.0}
        bar = None
        if progress is True:
            from tqdm import tqdm

            bar = tqdm(total=n_exp, desc=f"analyse {case.id}", unit="frame", leave=False)
        old_threads = cv2.getNumThreads()
        cv2.setNumThreads(max(1, cfg.cv2_threads))
        pnp_guess = None
        aligned_target = "reference" if target is not None else "first_frame"
        t_loop = time.perf_counter()
        n = 0
        frames = _prefetch(media.iter_frames(path, threads=cfg.decode_threads))
        try:
            ta = time.perf_counter()
            for idx, rgb in enumerate(frames):
                tb = time.perf_counter()
                stage["decode_wait"] += tb - ta
                if rgb.shape[0] != h or rgb.shape[1] != w:
                    raise MediaError(f"case {case.id!r}: {path.name} frame {idx} is {rgb.shape[1]}x{rgb.shape[0]}, "
                                     f"stream says {w}x{h}")
                gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
                tr = tracker.update(idx, gray)
                tc = time.perf_counter()
                stage["track"] += tc - tb
                face = None
                if tr is not None:
                    lm = tr.landmarks.astype(np.float64)
                    d, mo, mw, ear, brow = face_signals(lm)
                    if d > 1.0:
                        face = FaceObs(tr.box.astype(np.float32), tr.landmarks, tr.score)
                        rows["face_present"].set(idx, True)
                        rows["face_box_px"].set(idx, tr.box)
                        rows["det_score"].set(idx, tr.score)
                        rows["landmarks_px"].set(idx, tr.landmarks)
                        for k, v in (("iod_px", d), ("mouth_open", mo), ("mouth_width", mw), ("ear", ear), ("brow", brow)):
                            rows[k].set(idx, v)
                        if target is None:  # no face in the references: the first tracked frame is the origin
                            target = lm
                        got = pose.rotation(lm, pnp_guess)
                        if got is not None:
                            r, rvec, tvec = got
                            pnp_guess = (rvec, tvec)
                            if pose_ref_r is None:
                                pose_ref_r = r
                            rows["pose_deg"].set(idx, relative_euler(r, pose_ref_r))
                        tc0, tc1 = eye_centres(target)
                        rows["aligned"].set(idx, align_to(lm, target, (tc0 + tc1) / 2, iod(target)))
                    else:
                        pnp_guess = None
                else:
                    pnp_guess = None
                td = time.perf_counter()
                stage["geometry"] += td - tc
                fl, bf, lab, sh = imgf.frame(rgb, gray, face.box_px if face is not None else None)
                rows["luma_flicker"].set(idx, fl)
                rows["body_flow"].set(idx, bf)
                rows["region_lab"].set(idx, lab)
                rows["face_sharpness"].set(idx, sh)
                te = time.perf_counter()
                stage["image"] += te - td
                for name in list(active):
                    try:
                        active[name].frame(idx, rgb, face)
                    except Exception as e:
                        self._fail_extractor(name, "frame", e, active, unavailable, backends)
                ta = time.perf_counter()
                stage["extractors"] += ta - te
                n = idx + 1
                if bar is not None:
                    bar.update(1)
                elif callable(progress):
                    progress(n, n_exp)
        finally:
            frames.close()  # stops the decoding thread now, also when a frame raised
            cv2.setNumThreads(old_threads)
            if bar is not None:
                bar.close()
        timings["frames"] = time.perf_counter() - t_loop
        timings.update({f"frames.{k}": v for k, v in stage.items()})
        if n == 0:
            raise MediaError(f"case {case.id!r}: {path.name} contains no decodable video frames")
        self._check_frames(n, case, path)

        values: dict[str, Any] = {"fps": float(fps), "n_frames": int(n), "width": int(w), "height": int(h),
                                  "duration": n / float(fps)}
        for k, r in rows.items():
            values[k] = r.take(n)
        if values["face_present"].any():
            values["pose_deg"] = _unwrap_deg(values["pose_deg"])
        else:
            reason = f"no face found in any of {n} frames"
            for k in FACE_FEATURES:
                values.pop(k, None)
                unavailable[k] = reason
        # reference sharpness on the first reference image's face crop
        if ref_i is not None and ref_boxes[0] is not None:
            values["ref_sharpness"] = laplacian_sharpness(cv2.cvtColor(ref_imgs[0], cv2.COLOR_RGB2GRAY), ref_boxes[0],
                                                          cfg.sharp_crop)
        else:
            unavailable["ref_sharpness"] = "no face found in the first reference image"

        t = time.perf_counter()
        values.update(audio.features(fps, n))
        timings["audio_wait"] = time.perf_counter() - t
        timings["audio_vad"] = audio.seconds

        t = time.perf_counter()
        for name, ex in list(active.items()):
            try:
                out = ex.end()
            except Exception as e:
                self._fail_extractor(name, "end", e, active, unavailable, backends)
                continue
            for k, v in out.items():
                if isinstance(v, Unavailable):
                    unavailable[k] = v.reason
                    values.pop(k, None)
                else:
                    values[k] = v
                    unavailable.pop(k, None)
        timings["extractors_end"] = time.perf_counter() - t
        backends["landmarks"] = {"name": "dlib HOG + shape_predictor_68_face_landmarks", "version": _pkg_version("dlib-bin")}
        backends["vad"] = {"name": "silero-vad", "version": _pkg_version("silero-vad")}
        meta = {
            "analyzer_version": ANALYZER_VERSION, "config": cfg.protocol_dict(), "video": str(path), "case_id": case.id,
            "embed_stride": stride, "aligned_target": aligned_target,
            "pose_origin": "reference" if ref_i is not None else "first_frame",
            "face_frames": int(values["face_present"].sum()), "detections": tracker.n_detect,
            "timings_s": timings, "frames_per_s": n / max(timings["frames"], 1e-9), "device": device,
        }
        return Features(values=values, unavailable=unavailable, backends=backends, meta=meta)

    def _start_extractor(self, name, ctx, active, unavailable, backends) -> None:
        try:
            ex = self._extractor(name)
        except Exception as e:
            reason = f"extractor {name!r} cannot be loaded: {type(e).__name__}: {e}"
            backends[name] = {"name": name, "available": False, "reason": reason}
            cls_provides = IDENTITY_FEATURES if name == self.config.identity_backend else ()
            for k in cls_provides:
                unavailable[k] = reason
            return
        reason = None
        try:
            reason = ex.availability()
        except Exception as e:
            reason = f"{type(e).__name__}: {e}"
        if reason is not None:
            backends[name] = {"name": name, "available": False, "reason": reason}
            for k in ex.provides:
                unavailable[k] = reason
            return
        try:
            backends[name] = {**ex.backend_info(), "available": True, "reason": None}
            ex.begin(ctx)
            active[name] = ex
        except Exception as e:
            self._fail_extractor(name, "begin", e, {name: ex}, unavailable, backends)

    @staticmethod
    def _fail_extractor(name, stage, exc, active, unavailable, backends) -> None:
        ex = active.pop(name)
        reason = f"extractor {name!r} failed in {stage}: {type(exc).__name__}: {exc}"
        backends[name] = {**backends.get(name, {"name": name}), "available": False, "reason": reason, "failed": True}
        for k in ex.provides:
            unavailable[k] = reason



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


def _pkg_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"
