"""Cost of the lip-sync measure per minute of video, beside the measure it replaced.

    python benchmarks/bench_lipsync.py             # 1, 5 and 20 minutes
    python benchmarks/bench_lipsync.py --quick     # 1 and 5 minutes

A 20 s astronaut clip whose mouth follows espeak-ng speech (``lpmbench.testing``; syllable-like
noise when espeak-ng is missing) goes once through the real analysis pass; its per-frame features
are then tiled to each length (and the speech with them), so the timings are those of real
feature arrays at that length. Printed per minute of video, CPU seconds of this process (best of
3 runs):

- ``spectral frames``: the analysis pass's added audio feature (``agent_spectral``: log-mel,
  energy and flux every 10 ms), paid once per video, cached;
- ``av_sync v2``: the metric on cached features (mouth descriptors, audio taps, projection, lag
  curve and its circular-shift null by FFT);
- ``silent_articulation``: the speech-band mouth speed in silences;
- ``av_sync v1``: the replaced mouth-opening/envelope lagged correlation (+-15 frames), re-stated
  here for the comparison only.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

SECONDS = 20.0


def v1_av_sync(m: np.ndarray, env: np.ndarray, speaking: np.ndarray, max_lag: int = 15) -> float:
    """Version 1 of lipsync.av_confidence: max_k r_k - median_k r_k of Pearson(m[t + k], env[t])
    over the speaking frames, k in [-15, 15]."""
    t = np.flatnonzero(speaking & np.isfinite(m))
    r = []
    for k in range(-max_lag, max_lag + 1):
        tt = t[(t + k >= 0) & (t + k < len(m))]
        r.append(np.corrcoef(m[tt + k], env[tt])[0, 1])
    r = np.asarray(r)
    return float(r.max() - np.median(r))


def features_clip():
    """(features, agent audio) of the 20 s clip from the real analysis pass."""
    from lpmbench.testing import audio as A
    from lpmbench.testing import clips as MF
    from lpmbench.testing.scoring import analyse

    if A.have_espeak():
        text = ("Good morning, and welcome to the station. Today we will look at the weather, the traffic in "
                "the city and the news from the harbour, where the ships arrive early.")
        agent = A.place(SECONDS, [(0.3, A.fit_speech(text, 8.0)), (9.5, A.fit_speech(text, 8.0))])
    else:
        agent = A.syllable_audio(SECONDS)
    clip = MF.lip_synced_clip(agent, "bench_lipsync", amp=0.25)
    return analyse(clip.video, clip.case, embed_hz=0.5), agent


def tiled(f, agent: np.ndarray, minutes: float):
    """The features (and speech) repeated to ``minutes`` of video."""
    from lpmbench.analysis.audio import SPECTRAL_HOP_S, spectral_frames
    from lpmbench.features import Features

    reps = int(np.ceil(minutes * 60 / SECONDS))
    n = int(round(minutes * 60 * f.fps))
    v = {k: (np.concatenate([a] * reps)[:n] if isinstance(a, np.ndarray) and a.ndim >= 1 and len(a) == f.n_frames else a)
         for k, a in f.values.items()}
    x = np.tile(agent, reps)[:int(round(minutes * 60 * 16000))]
    v.update(n_frames=n, duration=n / f.fps, spectral_hop_s=SPECTRAL_HOP_S)
    v["agent_spectral"] = spectral_frames(x, n / f.fps).astype(np.float16)
    return Features(v, dict(f.unavailable), f.backends, f.meta), x


def cpu(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def main(argv: list[str] | None = None) -> None:
    from lpmbench.analysis.audio import spectral_frames
    from lpmbench.metric_api import MetricContext
    from lpmbench.metrics import lipsync as LS

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 and 5 minutes only")
    args = ap.parse_args(argv)
    f0, agent = features_clip()
    sync, silent = LS.AVSync(), LS.SilentArticulation()
    print(f"CPU seconds per minute of video (best of 3), features of a {SECONDS:g} s clip tiled; {f0.fps:g} fps")
    print(f"{'minutes':>8} {'spectral frames':>16} {'av_sync v2':>11} {'silent_artic':>13} {'av_sync v1':>11} "
          f"{'v2 / v1':>8}")
    for minutes in (1, 5) if args.quick else (1, 5, 20):
        f, x = tiled(f0, agent, minutes)
        ctx = MetricContext(features=f, case=None)
        vad = np.asarray(f["agent_vad"], bool)
        m, env = np.asarray(f["mouth_open"], float), np.asarray(f["agent_env"], float)
        t_spec = cpu(lambda: spectral_frames(x, f.n_frames / f.fps))
        t_new = cpu(lambda: sync(ctx))
        t_sil = cpu(lambda: silent(ctx))
        t_old = cpu(lambda: v1_av_sync(m, env, vad))
        print(f"{minutes:>8} {t_spec / minutes:>16.4f} {t_new / minutes:>11.4f} {t_sil / minutes:>13.4f} "
              f"{t_old / minutes:>11.4f} {t_new / max(t_old, 1e-9):>8.0f}x")
    print("(for scale: the analysis pass itself costs ~29 ms of CPU per frame, ~45 s per minute at 25 fps)")


if __name__ == "__main__":
    main()
