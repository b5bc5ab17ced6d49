"""``puppet``: a procedural streaming baseline that animates the reference image by warping it.

Nothing is learned. Once per reference (at ``open_stream``) dlib's 68 landmarks place a few
control regions and the rig (:mod:`.rig`, on the warps of :mod:`lpmbench.vision.warps`)
precomputes their displacement fields; each frame is then one ``cv2.remap`` of the reference with
a backward map built from those fields (all vectorised, far faster than real time on one CPU core
at 512x512).

What drives it, frame by frame (:class:`~.driver.PuppetDriver`):

- mouth: the agent audio level (RMS in dBFS over the frame's audio, gated at -45 dBFS, full
  at -18 dBFS, fast attack / slower release) opens the jaw: the lips part as a lens painted as
  the dark inside of a mouth, lower lip and chin move down. The partner's audio never moves the
  lips.
- blinks: a seeded random schedule (``blink_rate_per_min``), each a vertical squeeze of both
  eye regions over ~3-5 frames.
- idle sway: slow sums of sinusoids on yaw/pitch/roll, a small translation, and small slow
  smile and brow changes (``idle_expression``).
- listening (partner voiced, agent silent): a slight attentive tilt and smile, and nods (pitch,
  with a brow flash) reacting 0.3-0.8 s after a stressed syllable of the partner, with 3-5.5 s
  of rest after each nod; every state blends in and out smoothly, so speak/listen switches do
  not jump.
- text prompts (``PromptEvent.action``): nod, shake_head, smile, raise_eyebrows, look_left,
  look_right, close_eyes, performed within their span.

Head rotations are a 2.5D warp: every pixel of the head moves by ``depth * sin(angle)``, with a
depth map made of an ellipsoid over the head plus a bump at the nose, so a yaw moves the nose
tip more than the eye corners and registers as a rotation (not a translation) to a PnP pose
estimator on rigid landmarks. Conventions of :class:`~.rig.Controls`: positive yaw turns the face
towards image right (the character's own left), positive pitch tips the nose down (a nod goes
positive first; the analysis pass reports nose-up as positive), positive roll turns the head
clockwise on screen. ``look_left``/``look_right`` follow the
character's point of view: ``look_left`` is a positive yaw (face towards image right).

A reference without a detectable face (or a ``non_humanoid`` character) gets a central-region
rig: sway, head rotation of the central region and a "mouth" at a default place, no eyes or
brows; it never fails for lack of a face.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ... import vision
from ...case import Case
from ...vision import fit_box, fit_to_frame, warps
from ..base import Adapter, StreamSession
from ..baselines import FrameClockSession, case_seed, source_fingerprint
from . import driver as driver_module
from . import rig as rig_module
from .driver import PuppetDriver
from .rig import PuppetRig

__all__ = ["PuppetAdapter", "PuppetDriver", "PuppetRig"]


class _PuppetSession(FrameClockSession):
    def __init__(self, case: Case, rig: PuppetRig, driver: PuppetDriver):
        super().__init__(case)
        self.rig, self.driver = rig, driver

    def render(self, k: int, agent_db: float, partner_db: float) -> np.ndarray:
        return self.rig.render(self.driver.step(k, agent_db, partner_db, self.events))


class PuppetAdapter(Adapter):
    """Procedural talking/listening head: warps the reference; streaming; deterministic per case.

    Parameters (all optional):
        mouth_gain: jaw drop at full voice, relative to 0.3 IOD (default 1.0).
        blink_rate_per_min: mean blinks per minute (default 15; 0 disables blinking).
        sway_deg: amplitude of the idle head sway in degrees (default 2.0).
        nod_deg: amplitude of nods, listening and prompted (default 10.0).
        listen_nods: nod in reaction to the partner's speech while listening (default True).
        seed: combined with the case id into the RNG seed (default 0).
        lag_frames: delay of the mouth behind the audio in frames (default 0; for tests).
        look_deg: yaw of look_left / look_right (default 18.0).
        shake_deg: yaw amplitude of shake_head (default 15.0).
        idle_expression: scale of the small idle smile/brow changes and the listener's smile and
            brow flashes with its nods (default 1.0; 0 keeps the face neutral between prompts).
    """

    name = "puppet"
    version = "1.0"
    streaming = True

    def __init__(self, *, mouth_gain: float = 1.0, blink_rate_per_min: float = 15.0, sway_deg: float = 2.0,
                 nod_deg: float = 10.0, listen_nods: bool = True, seed: int = 0, lag_frames: int = 0,
                 look_deg: float = 18.0, shake_deg: float = 15.0, idle_expression: float = 1.0):
        if lag_frames < 0:
            raise ValueError(f"puppet: lag_frames must be >= 0, got {lag_frames}")
        if blink_rate_per_min < 0:
            raise ValueError(f"puppet: blink_rate_per_min must be >= 0, got {blink_rate_per_min}")
        super().__init__(mouth_gain=mouth_gain, blink_rate_per_min=blink_rate_per_min, sway_deg=sway_deg,
                         nod_deg=nod_deg, listen_nods=listen_nods, seed=seed, lag_frames=lag_frames,
                         look_deg=look_deg, shake_deg=shake_deg, idle_expression=idle_expression)
        self._rigs: dict[tuple[str, int, int, bool], PuppetRig] = {}

    def setup(self) -> None:
        """Load dlib's detector and landmark model once, before the first (timed) case."""
        vision.face_models()

    def fingerprint(self) -> str:
        from .. import baselines

        # every module whose code shapes the frames
        return source_fingerprint([sys.modules[__name__], rig_module, driver_module, baselines, vision.models,
                                   vision.crops, warps], self.config)

    def rig(self, case: Case) -> PuppetRig:
        """The rig of the case's reference at the case resolution (detected once, then cached)."""
        want_face = case.character.style != "non_humanoid"
        key = (str(Path(case.reference).resolve()), case.width, case.height, want_face)
        if key not in self._rigs:
            from ...media import load_image

            image = load_image(case.reference)
            frame = fit_to_frame(image, case.width, case.height)
            box = fit_box(image.shape[1], image.shape[0], case.width, case.height)
            lms = warps.warp_landmarks(frame) if want_face else None
            if lms is not None:
                geom = warps.face_geometry(lms)
            else:  # no face: animate the central region of the picture (not the letterbox bars)
                geom = warps.default_geometry(case.width, case.height, box)
            self._rigs[key] = PuppetRig(frame, geom, self.config["mouth_gain"], box)
        return self._rigs[key]

    def open_stream(self, case: Case) -> StreamSession:
        rig = self.rig(case)
        cfg = dict(self.config)
        rng = np.random.default_rng(case_seed(case.id, cfg.pop("seed")))
        cfg.pop("mouth_gain")  # a property of the rig
        driver = PuppetDriver(case, rng, blinks=rig.geom.has_face, **cfg)
        return _PuppetSession(case, rig, driver)
