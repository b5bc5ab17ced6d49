"""SyncNet (syncnet_v2 weights) per-offset audio-visual distances, preprocessed as syncnet_python does.

Reproduces joonson/syncnet_python's evaluation (``run_pipeline.py`` crop + ``SyncNetInstance.evaluate``,
as packaged by ``syncnet-python``), so LSE-C / LSE-D are comparable with published numbers:

- video at 25 fps (other rates are mapped to 25 fps by nearest frame; recorded);
- face box per frame from the analysis face track, box side/centre median-filtered over 13 frames
  (``scipy.signal.medfilt``, zero-padded at track ends as upstream), gaps of <= 25 frames linearly
  interpolated, tracks of <= 50 frames dropped;
- crop ``[cy - s, cy + 1.8 s] x [cx - 1.4 s, cx + 1.4 s]`` (s = half the box side, crop_scale 0.4)
  from the frame padded with grey 110, resized to 224x224, **BGR colour**, pixel values 0..255
  (SyncNet's lip stream is a 3-channel Conv3d: upstream feeds colour, not grayscale);
- audio: the agent track at 16 kHz as int16 samples -> ``python_speech_features.mfcc`` defaults
  (13 coefficients, 25 ms window, 10 ms hop) -> 4 MFCC frames per video frame, 20 per window;
- 5-frame windows (``len - 5`` windows per track, as upstream), batch 20, ``forward_lip`` /
  ``forward_aud``; per-window euclidean distances to the audio features shifted by -15..15
  (features zero-padded at the track ends, as upstream ``calc_pdist``), mean over windows.

Differences from upstream that cannot be removed, recorded in ``syncnet_params``: faces come from
the analysis track (dlib) instead of S3FD, and frames are not re-encoded through XVID/JPEG.

Output: ``syncnet_dists`` (31,) mean distance per index j (audio shifted by j - 15 frames) and
``syncnet_params`` with every parameter, the weights sha256 and ``offsets[j] = 15 - j``: the
offset in frames, positive = video late (upstream's ``offset = vshift - argmin``).
"""
from __future__ import annotations

from collections import deque
from math import ceil
from pathlib import Path
from typing import Any

import numpy as np

from ..extractors import ExtractorContext, FaceObs, Unavailable
from . import WeightBackedExtractor

FPS = 25
AUDIO_RATE = 16000
VSHIFT = 15
WINDOW = 5
MFCC_PER_FRAME = 4  # 100 MFCC frames/s at 25 fps
CROP_SCALE = 0.40
CROP_SIZE = 224
BOX_MEDFILT = 13
MAX_GAP = 25  # upstream num_failed_det
MIN_TRACK = 50  # upstream min_track: a track must be longer than this
BATCH = 20
PAD_VALUE = 110


def load_syncnet(path: str | Path, device: str = "cpu"):
    """syncnet_python's ``SyncNetModel.S`` with the state dict in ``path`` (strict), in eval mode."""
    import torch
    from syncnet_python.SyncNetModel import S

    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"expected a state dict, found {type(state).__name__}")
    state = {k[len("__S__."):] if k.startswith("__S__.") else k: v for k, v in state.items()}
    model = S(num_layers_in_fc_layers=1024)
    model.load_state_dict(state, strict=True)
    return model.eval().to(device)


def syncnet_crop(img_bgr: np.ndarray, s: float, x: float, y: float) -> np.ndarray:
    """Upstream ``_crop``: the face region around centre (x, y) with half-side s, 224x224 BGR."""
    import cv2

    cs = CROP_SCALE
    pad = int(s * (1 + 2 * cs))
    img_p = cv2.copyMakeBorder(img_bgr, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    my, mx = y + pad, x + pad
    y1, y2 = int(my - s), int(my + s * (1 + 2 * cs))
    x1, x2 = int(mx - s * (1 + cs)), int(mx + s * (1 + cs))
    return cv2.resize(img_p[max(y1, 0):y2, max(x1, 0):x2], (CROP_SIZE, CROP_SIZE))


def mfcc_features(audio: np.ndarray) -> np.ndarray:
    """(13, M) MFCC of float audio in [-1, 1] at 16 kHz, computed on int16 samples as upstream."""
    import python_speech_features

    pcm = np.clip(np.round(np.asarray(audio, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)
    return np.asarray(python_speech_features.mfcc(pcm, AUDIO_RATE), dtype=np.float64).T


def calc_pdist(feat_v: np.ndarray, feat_a: np.ndarray, vshift: int = VSHIFT) -> np.ndarray:
    """(N, 2*vshift+1) distances of each video feature to the audio features shifted by -vshift..vshift.

    The audio features are zero-padded by ``vshift`` at both ends, as upstream ``calc_pdist``.
    """
    n, d = feat_v.shape
    padded = np.concatenate([np.zeros((vshift, d)), feat_a, np.zeros((vshift, d))])
    win = 2 * vshift + 1
    out = np.empty((n, win))
    for i in range(n):
        # torch pairwise_distance adds eps=1e-6 to the difference before the norm
        out[i] = np.linalg.norm(feat_v[i][None, :] - padded[i:i + win] + 1e-6, axis=1)
    return out


def slots_for_frame(idx: int, fps: float) -> range:
    """The 25-fps slots whose nearest source frame (at ``fps``) is frame ``idx``."""
    if abs(fps - FPS) < 1e-6:
        return range(idx, idx + 1)
    lo = ceil((idx - 0.5) * FPS / fps - 1e-9)
    hi = ceil((idx + 0.5) * FPS / fps - 1e-9)
    return range(max(lo, 0), hi)


def medfilt_at(values: list[float], i: int, k: int = BOX_MEDFILT) -> float:
    """``scipy.signal.medfilt(values, k)[i]`` (zero padding beyond the ends), for one index."""
    h = k // 2
    win = [values[j] if 0 <= j < len(values) else 0.0 for j in range(i - h, i + h + 1)]
    return float(np.median(win))


class _Track:
    """One face track at 25 fps: box series (with interpolated gaps) and the lip features so far."""

    def __init__(self, start: int):
        self.start = start  # first slot
        self.s: list[float] = []
        self.x: list[float] = []
        self.y: list[float] = []
        self.n_emitted = 0  # slots cropped so far
        self.crops: deque[np.ndarray] = deque(maxlen=WINDOW)
        self.window_starts: list[int] = []  # slots (absolute) of the 5-frame windows batched
        self.lip_feats: list[np.ndarray] = []
        self.batch: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.s)


class SyncNetExtractor(WeightBackedExtractor):
    name = "syncnet"
    version = "1"
    provides = ("syncnet_dists", "syncnet_params")
    weights_name = "syncnet_v2"
    modules = ("torch", "syncnet_python", "python_speech_features", "cv2")
    install_hint = "pip install syncnet-python"

    def __init__(self, weights_dir: str | Path | None = None, device: str | None = None,
                 min_track: int = MIN_TRACK) -> None:
        super().__init__(weights_dir, device)
        self.min_track = int(min_track)  # recorded in syncnet_params; the protocol default is upstream's 50

    def load_model(self, path: Path):
        return load_syncnet(path)

    # -- per video --------------------------------------------------------------------------------
    def begin(self, ctx: ExtractorContext) -> None:
        super().begin(ctx)
        self.fps = float(ctx.fps)
        self.audio = ctx.agent_audio
        self.tracks: list[_Track] = []
        self.track: _Track | None = None
        self.last_det: int | None = None  # last slot with a face observation
        # slot -> BGR frame, for slots not yet cropped (bounded: <= MAX_GAP + BOX_MEDFILT frames)
        self.pending: dict[int, np.ndarray] = {}
        self.n_slots = 0

    def _slots_of(self, idx: int) -> range:
        return slots_for_frame(idx, self.fps)

    def frame(self, idx: int, rgb: np.ndarray, face: FaceObs | None) -> None:
        slots = self._slots_of(idx)
        if not len(slots):
            return
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        for k in slots:
            self.n_slots = k + 1
            if face is not None:
                self._observe(k, np.asarray(face.box_px, dtype=np.float64))
            if self.track is not None or face is not None:
                self.pending[k] = bgr
            self._drop_stale(k)
            self._emit_ready(final=False)

    def _observe(self, k: int, box: np.ndarray) -> None:
        s = max(box[3] - box[1], box[2] - box[0]) / 2
        x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        if self.track is not None and self.last_det is not None and k - self.last_det > MAX_GAP:
            self._close_track()
        if self.track is None:
            self.track = _Track(k)
            self.tracks.append(self.track)
        else:  # fill the gap since the last detection by linear interpolation (upstream interp1d)
            t, j = self.track, self.last_det
            s0, x0, y0 = t.s[-1], t.x[-1], t.y[-1]  # the box at slot j (the track's last value)
            for m in range(j + 1, k):
                a = (m - j) / (k - j)
                t.s.append((1 - a) * s0 + a * s)
                t.x.append((1 - a) * x0 + a * x)
                t.y.append((1 - a) * y0 + a * y)
        self.track.s.append(s)
        self.track.x.append(x)
        self.track.y.append(y)
        self.last_det = k

    def _drop_stale(self, k: int) -> None:
        """A gap longer than MAX_GAP ends the track at its last detection (upstream num_failed_det)."""
        if self.track is not None and self.last_det is not None and k - self.last_det > MAX_GAP:
            self._close_track()

    def _close_track(self) -> None:
        self._emit_ready(final=True)
        self.track = None
        # frames after the closed track's last detection are not part of it
        end = self.last_det if self.last_det is not None else -1
        for m in [m for m in self.pending if m > end]:
            self.pending.pop(m)

    def _emit_ready(self, final: bool) -> None:
        t = self.track
        if t is None:
            return
        h = BOX_MEDFILT // 2
        n = len(t)
        limit = n if final else n - h  # smoothed box at i needs boxes up to i + 6 (or the track end)
        while t.n_emitted < limit:
            i = t.n_emitted
            slot = t.start + i
            frame = self.pending.pop(slot, None)
            t.n_emitted += 1
            if frame is None:  # cannot happen for slots inside a track; keep windows contiguous
                t.crops.clear()
                continue
            crop = syncnet_crop(frame, medfilt_at(t.s, i), medfilt_at(t.x, i), medfilt_at(t.y, i))
            t.crops.append(crop)
            if len(t.crops) == WINDOW:
                t.window_starts.append(slot - WINDOW + 1)
                # (5, H, W, C) -> (C, 5, H, W): upstream's transpose of the stacked images
                t.batch.append(np.stack(t.crops).transpose(3, 0, 1, 2))
                if len(t.batch) == BATCH:
                    self._run_lip(t)
        if final:
            self._run_lip(t)

    def _run_lip(self, t: _Track) -> None:
        if not t.batch:
            return
        import torch

        x = np.stack(t.batch)  # (B, C, 5, H, W)
        with torch.no_grad():
            out = self.model.forward_lip(torch.from_numpy(x.astype(np.float32)).to(self.device_used))
        t.lip_feats.append(out.float().cpu().numpy())
        t.batch = []

    # -- result -----------------------------------------------------------------------------------
    def end(self) -> dict[str, Any]:
        if self.track is not None:
            self._close_track()
        self.pending.clear()
        params = self.params()
        if self.audio is None:
            why = Unavailable("the case has no agent audio: SyncNet measures lip sync to the character's own speech")
            return {"syncnet_dists": why, "syncnet_params": params}
        mfcc = mfcc_features(self.audio)
        n_audio_frames = len(self.audio) // (AUDIO_RATE // FPS)  # upstream floor(len(audio) / 640)
        per_window: list[np.ndarray] = []
        used: list[list[int]] = []
        for t in self.tracks:
            n = min(len(t), n_audio_frames - t.start)
            if len(t) <= self.min_track or n - WINDOW <= 0 or not t.lip_feats:
                continue
            n_win = n - WINDOW  # upstream: range(0, min_length - 5)
            lip = np.concatenate(t.lip_feats)
            starts = np.asarray(t.window_starts)
            keep = starts < t.start + n_win
            lip, starts = lip[keep], starts[keep]
            aud = self._audio_feats(mfcc, starts)
            per_window.append(calc_pdist(lip.astype(np.float64), aud))
            used.append([int(t.start), int(t.start + n)])
        params["tracks"] = used
        if not per_window:
            return {"syncnet_dists": Unavailable(
                f"no face track longer than {self.min_track} frames at {FPS} fps ({self.min_track / FPS:.1f} s) "
                "with audio: SyncNet needs a continuously visible face"), "syncnet_params": params}
        dists = np.concatenate(per_window)
        params["n_windows"] = int(len(dists))
        return {"syncnet_dists": dists.mean(axis=0), "syncnet_params": params}

    def _audio_feats(self, mfcc: np.ndarray, starts: np.ndarray) -> np.ndarray:
        import torch

        n_coef, m = mfcc.shape
        need = MFCC_PER_FRAME * int(starts.max()) + 20
        if m < need:  # audio shorter than the video: zero MFCC frames beyond the end
            mfcc = np.concatenate([mfcc, np.zeros((n_coef, need - m))], axis=1)
        wins = np.stack([mfcc[:, MFCC_PER_FRAME * s: MFCC_PER_FRAME * s + 20] for s in starts])[:, None]
        feats = []
        with torch.no_grad():
            for i in range(0, len(wins), BATCH):
                x = torch.from_numpy(wins[i:i + BATCH].astype(np.float32)).to(self.device_used)
                feats.append(self.model.forward_aud(x).float().cpu().numpy())
        return np.concatenate(feats).astype(np.float64)

    def params(self) -> dict[str, Any]:
        """Every preprocessing parameter, so a score can be reproduced (and compared honestly)."""
        return {
            "implementation": "lpmbench port of syncnet_python run_pipeline crop + SyncNetInstance.evaluate",
            "weights": self.weights_name,
            "weights_sha256": self.weights_sha256,
            "fps": FPS,
            "source_fps": self.fps,
            "fps_mapping": "none" if abs(self.fps - FPS) < 1e-6 else "nearest source frame per 25 fps slot",
            "audio_rate": AUDIO_RATE,
            "audio_source": "case agent audio (not the video's soundtrack)",
            "audio_pcm": "int16 (float * 32768)",
            "mfcc": {"library": "python_speech_features.mfcc", "numcep": 13, "winlen": 0.025, "winstep": 0.01,
                     "nfilt": 26, "nfft": 512, "preemph": 0.97, "ceplifter": 22, "appendEnergy": True},
            "mfcc_per_frame": MFCC_PER_FRAME,
            "mfcc_window": 20,
            "window_frames": WINDOW,
            "windows_per_track": "len - 5 (upstream)",
            "vshift": VSHIFT,
            "offsets": [VSHIFT - j for j in range(2 * VSHIFT + 1)],
            "offset_sign": "offsets[j] = vshift - j; positive = video late",
            "face_boxes": "analysis face track (dlib), not S3FD",
            "box_smoothing": f"scipy-style medfilt kernel {BOX_MEDFILT}, zero-padded at track ends",
            "max_gap_frames": MAX_GAP,
            "min_track_frames": self.min_track,
            "min_face_size": "not applied",
            "crop_scale": CROP_SCALE,
            "crop_size": CROP_SIZE,
            "crop_pad_value": PAD_VALUE,
            "colour": "BGR uint8 values as float (no normalisation)",
            "reencode": "none (upstream writes XVID then JPEG frames)",
            "batch_size": BATCH,
            "edge_padding": "zero feature vectors (upstream calc_pdist)",
            "distance": "torch pairwise_distance (L2, eps 1e-6)",
        }

    def extra_info(self) -> dict[str, Any]:
        return {"vshift": VSHIFT, "fps": FPS}
