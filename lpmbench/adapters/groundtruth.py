"""``groundtruth``: the real recording of each case (``Case.ground_truth``), scored like a model.

Suites imported from real recordings (``lpmbench suite import DIR``) keep each recording as the
case's ground truth: reference = one of its frames, agent audio = its own soundtrack. Evaluating
``model=groundtruth`` on such a suite gives the human row every talking-head paper reports: what
real people score on this benchmark. Like pre-generated videos it has no generation to time, so
it is ranked on the dimensions it shares with the models beside it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..case import Case
from .base import Adapter
from .folder import deliver


class GroundTruthAdapter(Adapter):
    name = "groundtruth"
    version = "1"
    timed = False

    def __init__(self, **config: Any):
        if config:
            raise TypeError(f"the groundtruth adapter takes no parameters, got {sorted(config)}")
        super().__init__()

    def supports(self, case: Case) -> str | None:
        return None if case.ground_truth else "the case has no ground-truth recording (suites made by `lpmbench suite import` have one)"

    def generate(self, case: Case, output: Path) -> None:
        assert case.ground_truth is not None
        deliver(case.ground_truth, output)
