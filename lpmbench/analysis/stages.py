"""The core stages of the analysis pass: face track, geometry, image features and audio.

A stage has the life cycle of a feature extractor (:class:`~.extractors.Extractor`:
``begin(ctx)``, ``frame(idx, rgb, face)`` on every frame, ``end() -> {feature: value |
Unavailable}``) and declares the features it ``provides``. The pass runs them in this order,
then the weight-backed extractors:

track     the face observation of each frame (:class:`~.extractors.FaceObs` or None), which every
          later stage reads: dlib HOG detection every few frames, 68 landmarks tracked in between;
          where a detection finds several faces, the one most like the reference (dlib descriptor)
geometry  landmark signals, rigid-landmark head pose, Procrustes alignment onto the reference
gaze      the iris position inside each eye (gaze.py), and the same on the reference image
image     low-resolution flicker, body flow, character-region colour, face and mouth sharpness
audio     envelopes, silero-vad segments, the state timeline and the agent's spectral frames
          (log-mel, energy, flux every 10 ms) from the CASE audio; the VAD (and
          the comparison of the video's own soundtrack with the case audio) runs in a thread from
          ``begin`` while the frames are decoded

Unlike an extractor, a core stage that raises stops the pass: that is bad media or a bug, not a
missing optional backend. Stages keep small per-frame rows, never frames. Importing this module
imports neither dlib nor OpenCV.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from .. import media
from ..case import AUDIO_RATE
from .audio import (SPECTRAL_HOP_S, rms_envelope, segments_to_frames, soundtrack_match, spectral_frames,
                    state_timeline, vad_segments)
from .extractors import IDENTITY_FEATURES, Extractor, ExtractorContext, FaceObs, Unavailable
from .face import FaceTracker, PoseEstimator, align_to, eye_centres, face_signals, iod, reference_landmarks, relative_euler
from .gaze import combine, eyes
from .image import ImageFeatures, laplacian_sharpness, mouth_sharpness

LANDMARKS_BACKEND = "dlib HOG + shape_predictor_68_face_landmarks"
VAD_BACKEND = "silero-vad"
# Scalars of the decoded video, set by the pass itself (not by a stage).
VIDEO_FEATURES = ("fps", "n_frames", "width", "height", "duration")


def no_face_reason(n_frames: int) -> str:
    return f"no face found in any of {n_frames} frames"


def pkg_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


class Rows:
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


def _rows(ctx: ExtractorContext, spec: dict[str, tuple[tuple[int, ...], Any, Any]]) -> dict[str, Rows]:
    cap = ctx.n_frames_expected + 8
    return {k: Rows(shape, dtype, fill, cap) for k, (shape, dtype, fill) in spec.items()}


F32 = ((), np.float32, np.nan)  # a per-frame float32 scalar, NaN where not measured


class Stage(Extractor):
    """A core stage: always available, versioned by ANALYZER_VERSION (not by ``version``); may
    report run facts and the times of its own threads."""

    backend: str | None = None  # its key in Features.backends, when it has a backend to record

    def meta(self) -> dict[str, Any]:
        """Facts about this video's pass (not features), merged into ``Features.meta`` after ``end``."""
        return {}

    def timings(self) -> dict[str, float]:
        """Seconds spent off the pass's clock (e.g. in a thread), by label; after ``end``."""
        return {}


class FaceTrackStage(Stage):
    """Tracks one face; ``frame`` returns this frame's observation and keeps the frame's grey image
    in :attr:`gray` for the stages after it.

    The character's face: when a detection (at the start, or after the track was lost) finds
    several faces, the tracker takes the one whose dlib descriptor is most like the reference
    images' (the descriptor model loads in this process the first time that happens); without a
    face in the references, the largest.
    """

    name = "track"
    backend = "landmarks"
    provides = ("face_present", "face_box_px", "det_score", "landmarks_px")

    def __init__(self, config) -> None:
        self.config = config
        self._tracker: FaceTracker | None = None
        self.gray: np.ndarray | None = None

    @property
    def tracker(self) -> FaceTracker:
        if self._tracker is None:  # loads the dlib models: on first use only
            c = self.config
            self._tracker = FaceTracker(c.detect_every, c.detect_max_side, c.detect_upsample, c.detect_min_score,
                                        c.track_min_iou)
        return self._tracker

    def reference_faces(self, images: list[np.ndarray]) -> tuple[list, list]:
        """(boxes, landmarks) of the largest face of each reference image, None where it shows none."""
        self.tracker.reset()
        found = [reference_landmarks(img, self.tracker) for img in images]
        self.tracker.reset()
        return [box for box, _ in found], [lm for _, lm in found]

    def backend_info(self) -> dict[str, Any]:
        return {"name": LANDMARKS_BACKEND, "version": pkg_version("dlib-bin")}

    def begin(self, ctx: ExtractorContext) -> None:
        self.ctx = ctx
        self.tracker.reset()
        self.tracker.choose = self._choose
        self.rows = _rows(ctx, {"face_present": ((), bool, False), "face_box_px": ((4,), np.float32, np.nan),
                                "det_score": F32, "landmarks_px": ((68, 2), np.float32, np.nan)})
        self.face_frames = 0
        self.faces_max = 0  # most faces one detection found
        self.similarities: list[float] = []  # cosine similarity to the reference of each face chosen
        self._ref_embedding: np.ndarray | None | bool = False  # False: not computed yet
        self._rgb: np.ndarray | None = None

    def _reference_embedding(self) -> np.ndarray | None:
        """Mean L2-normalised dlib descriptor of the reference faces, None without one."""
        if self._ref_embedding is False:
            from ..vision import face_chip
            from .identity import embed_chips

            ctx = self.ctx
            chips = [face_chip(img, box, lm) for img, box, lm in
                     zip(ctx.reference_images, ctx.reference_boxes, ctx.reference_landmarks) if lm is not None]
            if chips:
                e = embed_chips(np.stack(chips)).mean(axis=0)
                self._ref_embedding = e / max(float(np.linalg.norm(e)), 1e-12)
            else:
                self._ref_embedding = None
        return self._ref_embedding

    def _choose(self, gray: np.ndarray, dets: list[tuple[np.ndarray, float]]) -> tuple[np.ndarray, float]:
        """The character's face among several detections (FaceTracker's ``choose``): the one most
        like the reference, also among faces too small for the tracker's downscaled look, which a
        second look at twice its resolution finds (a crowd, a wide shot)."""
        from ..vision import detect_faces, face_chip, fit_landmarks
        from .face import _iou
        from .identity import embed_chips

        ref = self._reference_embedding()
        if ref is None or self._rgb is None:
            self.faces_max = max(self.faces_max, len(dets))
            return dets[0]  # the largest
        tr = self.tracker
        finer = detect_faces(gray, max_side=2 * tr.max_side, min_score=tr.min_score) if tr.max_side > 0 else []
        cands = dets + [d for d in finer if all(_iou(d[0], e[0]) < 0.3 for e in dets)]
        self.faces_max = max(self.faces_max, len(cands))
        chips = np.stack([face_chip(self._rgb, box, fit_landmarks(gray, box)) for box, _ in cands])
        sims = embed_chips(chips) @ ref
        i = int(np.argmax(sims))
        self.similarities.append(float(sims[i]))
        return cands[i]

    def frame(self, idx: int, rgb: np.ndarray, face: FaceObs | None = None) -> FaceObs | None:
        import cv2

        self._rgb = rgb
        self.gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        tr = self.tracker.update(idx, self.gray)
        # landmarks collapsed onto a point are no face (and would divide by a zero IOD)
        if tr is None or not iod(tr.landmarks.astype(np.float64)) > 1.0:
            return None
        r = self.rows
        r["face_present"].set(idx, True)
        r["face_box_px"].set(idx, tr.box)
        r["det_score"].set(idx, tr.score)
        r["landmarks_px"].set(idx, tr.landmarks)
        self.face_frames += 1
        return FaceObs(tr.box.astype(np.float32), tr.landmarks, tr.score)

    def end(self) -> dict[str, Any]:
        n = self.ctx.n_frames
        out: dict[str, Any] = {k: r.take(n) for k, r in self.rows.items()}
        if not self.face_frames:
            out.update({k: Unavailable(no_face_reason(n)) for k in self.provides if k != "face_present"})
        return out

    def meta(self) -> dict[str, Any]:
        faces = max(self.faces_max, 1 if self.face_frames else 0)
        if faces < 2:
            choice = "single face" if faces else "no face"
        elif self._ref_embedding is None or self._ref_embedding is False:
            choice = "the largest face (the reference images show none)"
        else:
            choice = (f"the face most like the reference (dlib descriptor) at {len(self.similarities)} detection(s), "
                      f"cosine similarity {min(self.similarities):.2f}-{max(self.similarities):.2f}")
        return {"face_frames": self.face_frames, "detections": self.tracker.n_detect, "faces_max": faces,
                "face_choice": choice}


class GeometryStage(Stage):
    """Landmark signals (lengths / IOD), head pose relative to the reference (else the first tracked
    frame) and landmarks Procrustes-aligned onto the reference shape."""

    name = "geometry"
    provides = ("iod_px", "mouth_open", "mouth_width", "ear", "brow", "pose_deg", "aligned")
    SIGNALS = ("iod_px", "mouth_open", "mouth_width", "ear", "brow")  # face_signals' order

    def begin(self, ctx: ExtractorContext) -> None:
        self.ctx = ctx
        self.rows = _rows(ctx, {**{k: F32 for k in self.SIGNALS}, "pose_deg": ((3,), np.float64, np.nan),
                                "aligned": ((68, 2), np.float32, np.nan)})
        self.ref_i = next((i for i, lm in enumerate(ctx.reference_landmarks) if lm is not None), None)
        self.target: np.ndarray | None = None
        self.pose_ref_r = None
        if self.ref_i is not None:
            self._set_target(ctx.reference_landmarks[self.ref_i].astype(np.float64))
            rh, rw = ctx.reference_images[self.ref_i].shape[:2]
            got = PoseEstimator(rw, rh).rotation(self.target)
            self.pose_ref_r = got[0] if got else None
        self.pose = PoseEstimator(ctx.width, ctx.height)
        self.guess = None  # the previous frame's PnP solution, while the face stays tracked
        self.any_face = False

    def _set_target(self, lm: np.ndarray) -> None:
        self.target = lm
        c0, c1 = eye_centres(lm)
        self.target_origin, self.target_iod = (c0 + c1) / 2, iod(lm)

    def frame(self, idx: int, rgb: np.ndarray, face: FaceObs | None) -> None:
        if face is None:
            self.guess = None
            return
        self.any_face = True
        lm = face.landmarks_px.astype(np.float64)
        for k, v in zip(self.SIGNALS, face_signals(lm)):
            self.rows[k].set(idx, v)
        if self.target is None:  # no face in the references: the first tracked frame is the origin
            self._set_target(lm)
        got = self.pose.rotation(lm, self.guess)
        if got is not None:
            r, rvec, tvec = got
            self.guess = (rvec, tvec)
            if self.pose_ref_r is None:
                self.pose_ref_r = r
            self.rows["pose_deg"].set(idx, relative_euler(r, self.pose_ref_r))
        self.rows["aligned"].set(idx, align_to(lm, self.target, self.target_origin, self.target_iod))

    def end(self) -> dict[str, Any]:
        n = self.ctx.n_frames
        if not self.any_face:
            return {k: Unavailable(no_face_reason(n)) for k in self.provides}
        out: dict[str, Any] = {k: r.take(n) for k, r in self.rows.items()}
        out["pose_deg"] = _unwrap_deg(out["pose_deg"])
        return out

    def meta(self) -> dict[str, Any]:
        origin = "reference" if self.ref_i is not None else "first_frame"
        return {"aligned_target": origin, "pose_origin": origin}


class GazeStage(Stage):
    """The iris position inside the eyes (:mod:`.gaze`): per frame the mean over the measured eyes,
    and the same on the first reference image with a face (a portrait looks at the camera)."""

    name = "gaze"
    provides = ("gaze", "gaze_valid", "ref_gaze")

    def __init__(self, track: FaceTrackStage) -> None:
        self.track = track  # its grey frame

    def begin(self, ctx: ExtractorContext) -> None:
        import cv2

        self.ctx = ctx
        self.rows = _rows(ctx, {"eyes": ((2, 3), np.float32, np.nan)})  # per eye: x, y, aspect ratio
        self.any_face = False
        self.ref: np.ndarray | Unavailable = Unavailable("no face found in the reference images")
        for img, lm in zip(ctx.reference_images, ctx.reference_landmarks):
            if lm is not None:
                g, ok = combine(eyes(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), lm)[None])
                self.ref = g[0].astype(np.float64) if ok[0] else \
                    Unavailable("the reference image's eyes are closed or too small to locate the irises")
                break

    def frame(self, idx: int, rgb: np.ndarray, face: FaceObs | None) -> None:
        if face is not None:
            self.any_face = True
            self.rows["eyes"].set(idx, eyes(self.track.gray, face.landmarks_px))

    def end(self) -> dict[str, Any]:
        n = self.ctx.n_frames
        if not self.any_face:
            return {k: Unavailable(no_face_reason(n)) for k in self.provides}
        g, valid = combine(self.rows["eyes"].take(n).astype(np.float64))
        return {"gaze": g, "gaze_valid": valid, "ref_gaze": self.ref}


def _unwrap_deg(x: np.ndarray) -> np.ndarray:
    """np.unwrap over the finite entries of each column (degrees), NaN kept."""
    out = x.copy()
    for j in range(x.shape[1]):
        ok = np.isfinite(x[:, j])
        if ok.any():
            out[ok, j] = np.degrees(np.unwrap(np.radians(x[ok, j])))
    return out


class ImageStage(Stage):
    """Low-resolution image features of every frame (image.py), the mouth box's sharpness, and
    the same sharpness figures on the reference."""

    name = "image"
    provides = ("luma_flicker", "body_flow", "region_lab", "face_sharpness", "ref_sharpness", "mouth_sharpness",
                "ref_mouth_sharpness")
    PER_FRAME = ("luma_flicker", "body_flow", "region_lab", "face_sharpness")  # ImageFeatures.frame's order

    def __init__(self, track: FaceTrackStage) -> None:
        self.track = track  # its grey frame: converted once per frame

    def begin(self, ctx: ExtractorContext) -> None:
        self.ctx = ctx
        c = ctx.config
        self.features = ImageFeatures(ctx.width, ctx.height, c.flow_size, c.face_dilate, c.static_flow_px, c.sharp_crop)
        self.rows = _rows(ctx, {k: ((3,), np.float32, np.nan) if k == "region_lab" else F32
                                for k in (*self.PER_FRAME, "mouth_sharpness")})
        self.any_face = False

    def frame(self, idx: int, rgb: np.ndarray, face: FaceObs | None) -> None:
        self.any_face = self.any_face or face is not None
        values = self.features.frame(rgb, self.track.gray, face.box_px if face is not None else None)
        for k, v in zip(self.PER_FRAME, values):
            self.rows[k].set(idx, v)
        if face is not None:
            self.rows["mouth_sharpness"].set(idx, mouth_sharpness(self.track.gray, face.landmarks_px))

    def end(self) -> dict[str, Any]:
        import cv2

        ctx = self.ctx
        n = ctx.n_frames
        out: dict[str, Any] = {k: r.take(n) for k, r in self.rows.items()}
        if not self.any_face:
            out["face_sharpness"] = out["mouth_sharpness"] = Unavailable(no_face_reason(n))
        box = ctx.reference_boxes[0] if ctx.reference_boxes else None
        if box is not None:  # the first reference image's face crop
            gray = cv2.cvtColor(ctx.reference_images[0], cv2.COLOR_RGB2GRAY)
            out["ref_sharpness"] = laplacian_sharpness(gray, box, ctx.config.sharp_crop)
            lm = ctx.reference_landmarks[0]
            out["ref_mouth_sharpness"] = (mouth_sharpness(gray, lm) if lm is not None
                                          else Unavailable("no landmarks on the first reference image's face"))
        else:
            out["ref_sharpness"] = out["ref_mouth_sharpness"] = Unavailable("no face found in the first reference image")
        return out


class AudioStage(Stage):
    """Audio features of the case's tracks (never the video's soundtrack); silero-vad runs in a
    thread from ``begin`` while the frames are decoded, followed there by the comparison of the
    video's own soundtrack, if it has one, with the case audio (``meta()["soundtrack"]``, see
    :func:`.audio.soundtrack_match`)."""

    name = "audio"
    backend = "vad"
    provides = ("has_agent_audio", "agent_env", "agent_segments", "agent_vad", "agent_spectral", "spectral_hop_s",
                "has_partner_audio", "partner_env", "partner_segments", "partner_vad", "state")

    def backend_info(self) -> dict[str, Any]:
        return {"name": VAD_BACKEND, "version": pkg_version("silero-vad")}

    def begin(self, ctx: ExtractorContext) -> None:
        self.ctx = ctx
        self.samples = {"agent": ctx.agent_audio, "partner": ctx.partner_audio}
        self.segments: dict[str, np.ndarray] = {}
        self.error: BaseException | None = None
        self.seconds = self.soundtrack_s = 0.0
        self.soundtrack: dict[str, Any] = {"verdict": "none"}
        self._thread = threading.Thread(target=self._vad, name="lpmbench-vad", daemon=True)
        self._thread.start()

    def _vad(self) -> None:
        t0 = time.perf_counter()
        try:
            c = self.ctx.config
            for role, x in self.samples.items():
                if x is not None:
                    self.segments[role] = vad_segments(x, threshold=c.vad_threshold, min_speech_s=c.vad_min_speech_s,
                                                       min_silence_s=c.vad_min_silence_s)
        except BaseException as e:  # re-raised by end(), on the analysis thread
            self.error = e
        t1 = time.perf_counter()
        self.seconds = t1 - t0
        ctx = self.ctx
        if ctx.video is not None and ctx.video_has_audio:
            try:
                own = media.load_audio(ctx.video, AUDIO_RATE, duration=ctx.n_frames_expected / ctx.fps)
                self.soundtrack = soundtrack_match(own, self.samples)
            except Exception as e:  # a broken soundtrack is a fact to report, not a failed pass
                self.soundtrack = {"verdict": "unreadable", "error": f"{type(e).__name__}: {e}"}
        self.soundtrack_s = time.perf_counter() - t1

    def end(self) -> dict[str, Any]:
        self._thread.join()
        if self.error is not None:
            raise RuntimeError(f"case {self.ctx.case.id!r}: voice activity detection failed: {self.error}") from self.error
        fps, n = self.ctx.fps, self.ctx.n_frames
        out: dict[str, Any] = {}
        for role, x in self.samples.items():
            out[f"has_{role}_audio"] = x is not None
            out[f"{role}_env"] = rms_envelope(x, fps, n) if x is not None else np.zeros(n, np.float32)
            seg = self.segments.get(role, np.zeros((0, 2)))
            out[f"{role}_segments"] = seg.astype(np.float64)
            out[f"{role}_vad"] = segments_to_frames(seg, fps, n)
        out["state"] = state_timeline(out["agent_vad"], out["partner_vad"])
        x = self.samples["agent"]
        # float16: 0.3 MB per minute; the lip-sync measure standardises every column per clip
        out["agent_spectral"] = (spectral_frames(x, n / fps).astype(np.float16) if x is not None
                                 else Unavailable("the case has no agent audio"))
        out["spectral_hop_s"] = SPECTRAL_HOP_S
        return out

    def meta(self) -> dict[str, Any]:
        return {"soundtrack": self.soundtrack}

    def timings(self) -> dict[str, float]:
        return {"vad": self.seconds, "soundtrack": self.soundtrack_s}


def core_stages(config) -> list[Stage]:
    """The core stages of one Analyzer, in pass order (the face track first)."""
    track = FaceTrackStage(config)
    return [track, GeometryStage(), GazeStage(track), ImageStage(track), AudioStage()]


STAGE_CLASSES = (FaceTrackStage, GeometryStage, GazeStage, ImageStage, AudioStage)  # core_stages' classes, in its order
# What the pass computes without any extra extractor: the video scalars, every core stage's
# features and the identity features (from AnalysisConfig.identity_backend, which always runs).
CORE_FEATURES = frozenset(VIDEO_FEATURES).union(*(c.provides for c in STAGE_CLASSES), IDENTITY_FEATURES)
