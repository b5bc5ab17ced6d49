"""ArcFace identity embeddings (insightface buffalo_l ``w600k_r50.onnx``), run with onnxruntime.

The ONNX file is run with onnxruntime directly rather than through ``insightface.model_zoo``:
insightface's wheel declares ``opencv-python``, which collides with the project's one OpenCV
(``opencv-contrib-python``), so it is not a dependency. The preprocessing is insightface's own
(``ArcFaceONNX`` + ``face_align.norm_crop``), reproduced here:

- 5 points from the 68 landmarks: eye centres (36-41, 42-47), nose tip (30), mouth corners (48, 54);
- similarity transform onto insightface's ``arcface_dst`` template, ``cv2.warpAffine`` to 112x112,
  black border;
- RGB, ``(x - 127.5) / 127.5`` (or no normalisation for MXNet-converted graphs whose first nodes
  already subtract/multiply, detected as insightface does);
- the embedding is L2-normalised.

Frames embedded: ``ctx.is_embed_frame(idx)`` where the face is tracked (the shared >= 5 Hz schedule).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..extractors import ExtractorContext, FaceObs, Unavailable
from . import WeightBackedExtractor

# insightface.utils.face_align.arcface_dst (112x112 template: eyes, nose, mouth corners)
ARCFACE_DST = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
INPUT_SIZE = 112


def five_points(lm68: np.ndarray) -> np.ndarray:
    """(5, 2) insightface keypoints from iBUG-68 landmarks (image-left eye first)."""
    lm = np.asarray(lm68, dtype=np.float64)
    if lm.shape != (68, 2):
        raise ValueError(f"expected (68, 2) landmarks, got {lm.shape}")
    return np.stack([lm[36:42].mean(0), lm[42:48].mean(0), lm[30], lm[48], lm[54]]).astype(np.float32)


def align_face(rgb: np.ndarray, kps5: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """insightface ``norm_crop``: the face warped onto the ArcFace template, (size, size, 3)."""
    import cv2
    from skimage.transform import SimilarityTransform

    src = np.asarray(kps5, dtype=np.float64)
    dst = ARCFACE_DST.astype(np.float64) * (size / 112.0)
    if hasattr(SimilarityTransform, "from_estimate"):  # scikit-image >= 0.26
        tform = SimilarityTransform.from_estimate(src, dst)
    else:
        tform = SimilarityTransform()
        tform.estimate(src, dst)
    return cv2.warpAffine(rgb, tform.params[0:2, :], (size, size), borderValue=0.0)


class ArcFaceModel:
    """An ArcFace-style ONNX recognition model: (N, 3, 112, 112) -> (N, D), run by onnxruntime."""

    def __init__(self, path: str | Path, device: str = "cpu"):
        import onnxruntime as ort

        self.path = Path(path)
        providers = ["CPUExecutionProvider"]
        if device == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(str(self.path), providers=providers)
        inp = self.session.get_inputs()[0]
        shape = list(inp.shape)
        if len(shape) != 4 or shape[1] != 3 or shape[2] != shape[3] or not isinstance(shape[2], int) or shape[2] < 112:
            raise ValueError(f"{self.path.name}: input shape {shape} is not an ArcFace (N, 3, 112, 112) input")
        self.input_name, self.size = inp.name, int(shape[2])
        self.fixed_batch = shape[0] if isinstance(shape[0], int) else None
        out = self.session.get_outputs()[0]
        self.dim = out.shape[-1] if isinstance(out.shape[-1], int) else None
        self.input_mean, self.input_std = self._normalisation()

    def _normalisation(self) -> tuple[float, float]:
        """insightface's rule: graphs starting with Sub and Mul nodes (MXNet exports) normalise themselves."""
        try:
            import onnx

            nodes = onnx.load(str(self.path), load_external_data=False).graph.node[:8]
        except Exception:  # onnx not installed: the buffalo_l models are not MXNet exports
            return 127.5, 127.5
        names = [n.name for n in nodes]
        has_sub = any(n.startswith(("Sub", "_minus")) for n in names)
        has_mul = any(n.startswith(("Mul", "_mul")) for n in names)
        return (0.0, 1.0) if has_sub and has_mul else (127.5, 127.5)

    def embed(self, faces_rgb: list[np.ndarray]) -> np.ndarray:
        """(N, D) L2-normalised embeddings of aligned RGB faces."""
        x = np.stack(faces_rgb).astype(np.float32)
        x = ((x - self.input_mean) / self.input_std).transpose(0, 3, 1, 2)
        if self.fixed_batch == 1:
            out = np.concatenate([self.session.run(None, {self.input_name: x[i:i + 1]})[0] for i in range(len(x))])
        else:
            out = self.session.run(None, {self.input_name: x})[0]
        out = out.reshape(len(x), -1).astype(np.float64)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


class ArcFaceExtractor(WeightBackedExtractor):
    name = "arcface"
    version = "1"
    provides = ("emb_frames", "embeddings", "ref_embedding", "emb_backend")
    weights_name = "arcface"
    modules = ("onnxruntime", "cv2", "skimage")
    install_hint = "pip install onnxruntime (insightface itself is not needed)"
    batch = 16

    def load_model(self, path: Path) -> ArcFaceModel:
        return ArcFaceModel(path, device="cpu")

    def on_device(self, device: str) -> None:
        self.device_used = device
        if device == "cuda" and getattr(self, "_session_device", "cpu") != "cuda":
            self.model = ArcFaceModel(self.weights_path, device="cuda")
            self._session_device = "cuda"

    def begin(self, ctx: ExtractorContext) -> None:
        super().begin(ctx)
        self.frames: list[int] = []
        self.embs: list[np.ndarray] = []
        self._pending: list[tuple[int, np.ndarray]] = []

    def frame(self, idx: int, rgb: np.ndarray, face: FaceObs | None) -> None:
        if face is None or not self.ctx.is_embed_frame(idx):
            return
        self._pending.append((idx, align_face(rgb, five_points(face.landmarks_px), self.model.size)))
        if len(self._pending) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.frames += [i for i, _ in self._pending]
            self.embs.append(self.model.embed([f for _, f in self._pending]))
            self._pending = []

    def end(self) -> dict[str, Any]:
        self._flush()
        out: dict[str, Any] = {"emb_backend": "arcface"}
        refs = [align_face(img, five_points(lm), self.model.size)
                for img, lm in zip(self.ctx.reference_images, self.ctx.reference_landmarks) if lm is not None]
        if refs:
            r = self.model.embed(refs).mean(axis=0)
            out["ref_embedding"] = r / max(np.linalg.norm(r), 1e-12)
        else:
            out["ref_embedding"] = Unavailable("no face found in the reference image(s): ArcFace needs landmarks")
        if self.embs:
            out["emb_frames"] = np.asarray(self.frames, dtype=np.int64)
            out["embeddings"] = np.concatenate(self.embs)
        else:
            why = Unavailable("no face tracked in any embedding frame: ArcFace needs a detected face")
            out["emb_frames"], out["embeddings"] = why, why
        return out

    def extra_info(self) -> dict[str, Any]:
        m = self.model
        return {"input_size": getattr(m, "size", None), "dim": getattr(m, "dim", None),
                "normalisation": [getattr(m, "input_mean", None), getattr(m, "input_std", None)],
                "alignment": "insightface norm_crop (arcface_dst) from 5 points of the 68 landmarks"}
