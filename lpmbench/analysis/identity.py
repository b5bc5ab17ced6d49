"""The default identity backend: dlib's ResNet face descriptor (face_recognition_models weights).

The descriptor costs ~75-120 ms per face on one CPU core and holds the GIL, so the face chips
(150x150, aligned on the 68 landmarks) are cut on the analysis thread and embedded by worker
processes in batches of two; at most ``2 * workers + 4`` batches are in flight (back-pressure), so
memory stays flat. If the workers cannot start, the chips are embedded in-process instead.
"""
from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..vision import CHIP_PADDING, CHIP_SIZE, DESCRIPTOR_MODEL, dlib_models_dir, face_chip, face_descriptor, landmark_box
from .extractors import IDENTITY_FEATURES, Extractor, ExtractorContext, FaceObs, Unavailable


def _weights_path() -> Path:
    return dlib_models_dir() / DESCRIPTOR_MODEL


def _worker_init() -> None:
    from ..procs import die_with_parent

    die_with_parent()  # a killed harness must not leave ~160 MB embedding workers behind
    # one core per worker: the pool is the parallelism
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    face_descriptor()


def embed_chips(chips: np.ndarray) -> np.ndarray:
    """(N, 150, 150, 3) uint8 chips -> (N, 128) L2-normalised float32 descriptors."""
    rec = face_descriptor()
    out = np.asarray(rec.compute_face_descriptor(list(chips)), dtype=np.float32).reshape(len(chips), -1)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


@lru_cache(maxsize=4)
def _file_sha256(path: str) -> str:
    from ..media import file_sha256

    return file_sha256(path)


def auto_workers(cores: int) -> int:
    """Embedding processes for ``cores`` CPU cores: none on one core (a worker would only add
    copies), two on two (the main process mostly waits on them), else up to four beside it."""
    if cores < 2:
        return 0
    return 2 if cores == 2 else min(4, cores - 1)


class DlibEmbeddingExtractor(Extractor):
    """128-d dlib ResNet descriptors of the tracked face at the shared embedding schedule."""

    name = "dlib"
    version = "dlib_face_recognition_resnet_model_v1"
    provides = IDENTITY_FEATURES

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._workers = 0

    def availability(self) -> str | None:
        try:
            p = _weights_path()
        except RuntimeError as e:
            return str(e)
        if not p.is_file():
            return f"dlib face descriptor weights not found at {p} (pip install face_recognition_models)"
        return None

    def backend_info(self) -> dict[str, Any]:
        import dlib

        return {"name": self.name, "version": self.version, "dlib": dlib.__version__,
                "weights": _weights_path().name, "weights_sha256": _file_sha256(str(_weights_path())),
                "chip": f"{CHIP_SIZE}px padding {CHIP_PADDING}, 68-point alignment"}

    # pool management --------------------------------------------------------------------------
    def _ensure_pool(self, workers: int) -> None:
        if workers <= 0:
            workers = auto_workers(os.cpu_count() or 1)
        if self._pool is not None and self._workers == workers:
            return
        self.close()
        self._workers = workers
        if workers > 0:
            import multiprocessing as mp

            # spawn: the parent may hold torch threads, which fork would copy in a broken state
            self._pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_worker_init)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _submit(self, chips: np.ndarray) -> Future:
        if self._pool is not None:
            try:
                return self._pool.submit(embed_chips, chips)
            except Exception:  # BrokenProcessPool / shut down: fall back to this process
                self._pool, self._workers = None, 0
        f: Future = Future()
        f.set_result(embed_chips(chips))
        return f

    # extractor life cycle -----------------------------------------------------------------------
    def begin(self, ctx: ExtractorContext) -> None:
        self.ctx = ctx
        self._ensure_pool(ctx.config.embed_workers)
        self._idx: list[int] = []
        self._pending: deque[tuple[list[int], np.ndarray, Future]] = deque()
        self._done: list[tuple[list[int], np.ndarray]] = []
        self._batch: list[np.ndarray] = []
        self._batch_idx: list[int] = []
        self._max_inflight = 2 * max(1, self._workers) + 4
        ref_chips = [face_chip(img, landmark_box(lm), lm) for img, lm in zip(ctx.reference_images, ctx.reference_landmarks)
                     if lm is not None]
        self._ref_chips = np.stack(ref_chips) if ref_chips else None
        self._ref_future = self._submit(self._ref_chips) if ref_chips else None

    def frame(self, idx: int, rgb: np.ndarray, face: FaceObs | None) -> None:
        if face is None or not self.ctx.is_embed_frame(idx):
            return
        self._batch.append(face_chip(rgb, face.box_px, face.landmarks_px))
        self._batch_idx.append(idx)
        if len(self._batch) >= 2:  # small batches: fewer round trips, little latency
            self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        chips = np.stack(self._batch)
        self._pending.append((self._batch_idx, chips, self._submit(chips)))
        self._batch, self._batch_idx = [], []
        while len(self._pending) > self._max_inflight:  # back-pressure keeps memory flat
            self._collect_one()

    def _collect_one(self) -> None:
        from concurrent.futures.process import BrokenProcessPool

        idx, chips, fut = self._pending.popleft()
        try:
            emb = fut.result()
        except BrokenProcessPool:
            # workers could not start (e.g. a script without an `if __name__ == "__main__"` guard)
            # or died: finish in this process rather than lose the identity features
            self._pool = None
            self._workers = 0
            emb = embed_chips(chips)
        self._done.append((idx, emb))

    def end(self) -> dict[str, Any]:
        self._flush()
        while self._pending:
            self._collect_one()
        out: dict[str, Any] = {"emb_backend": self.name}
        if self._done:
            out["emb_frames"] = np.concatenate([np.asarray(i, dtype=np.int64) for i, _ in self._done])
            out["embeddings"] = np.concatenate([e for _, e in self._done]).astype(np.float32)
        else:
            reason = f"no face found in any of {self.ctx.n_frames_expected} frames; the dlib backend embeds faces only " \
                     "(use identity_backend='clip' for non-face characters)"
            out["emb_frames"] = out["embeddings"] = Unavailable(reason)
        if self._ref_future is not None:
            try:
                ref = self._ref_future.result().mean(axis=0)
            except Exception:  # a broken pool: see _collect_one
                ref = embed_chips(self._ref_chips).mean(axis=0)
            out["ref_embedding"] = (ref / max(float(np.linalg.norm(ref)), 1e-12)).astype(np.float32)
        else:
            out["ref_embedding"] = Unavailable("no face found in the reference image(s)")
        self._done = []
        return out
