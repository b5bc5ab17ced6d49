"""Test fixtures for lpmbench's tests and benchmarks: controlled media whose truth is known.

Not used by the harness itself, and never scored as benchmark results.

- :mod:`.clips`: controlled face videos (package photos animated by the warps of
  :mod:`lpmbench.vision.warps`, effect strengths given as per-frame tracks) described as cases.
- :mod:`.audio`: controlled speech and audio (espeak-ng, synthetic syllables), envelopes at the
  video frame rate, frame shifts.
- :mod:`.scoring`: the real analysis pass and the real metric runner on those media.
- :mod:`.runs`: synthetic run folders (real schema, random values) for the leaderboard
  (``python -m lpmbench.testing.runs OUT_DIR``).
"""
