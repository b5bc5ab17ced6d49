"""Paced replay (lpmbench.streaming.driver) and the realtime metrics, on real sessions and media."""
from __future__ import annotations

import numpy as np
import pytest

from lpmbench.case import PromptEvent
from lpmbench.features import Features
from lpmbench.media import iter_frames, probe
from lpmbench.metric_api import MetricContext, Timing
from lpmbench.metrics import realtime as R
from lpmbench.streaming.synthetic_session import synthetic_session
from lpmbench.streaming.driver import due_chunk_index, run_stream
from lpmbench.streaming.timing import frame_series, timing_from_record
from standins.stream_cases import make_case


def _metrics(timing, fps=25.0):
    feats = Features({"fps": fps})
    out = {}
    for m in R.METRICS:
        r = m(MetricContext(feats, None, timing))
        out.update(r.values)
        out.update({k: "n/a: " + v for k, v in r.unavailable.items()})
        out.update({"series:" + k: v for k, v in r.series.items()})
    return out


# -- definitions ----------------------------------------------------------------------------------
def test_due_chunk_is_the_chunk_holding_the_frame_end():
    # 25 fps, 40 ms chunks: frame i ends at (i+1)*40 ms, exactly on the end of chunk i
    assert due_chunk_index(np.arange(5), 25, 0.04, 100).tolist() == [0, 1, 2, 3, 4]
    # 100 ms chunks: frame ends 40, 80 | 120, 160, 200 | 240 ms
    assert due_chunk_index(np.arange(6), 25, 0.1, 100).tolist() == [0, 0, 1, 1, 1, 2]
    # clamped to the chunks actually fed (a generator may emit more frames than the audio covers)
    assert due_chunk_index(np.arange(3), 25, 0.04, 2).tolist() == [0, 1, 1]


def test_stall_definition_on_hand_computed_arrivals():
    fps = 25.0
    a = 0.5 + np.arange(10) / fps  # steady: never stalls
    assert not R.stall_mask(a, fps).any()
    late = a.copy()
    late[6] += 0.25  # 250 ms late > 200 ms buffer: only frame 6 misses its slot
    assert R.stall_mask(late, fps).tolist() == [i == 6 for i in range(10)]
    late[6] = a[6] + 0.19  # within the buffer
    assert not R.stall_mask(late, fps).any()
    slow = 0.5 + np.arange(50) / 20.0  # 20 fps delivery of a 25 fps video: stalls after 0.2 s of drift
    m = R.stall_mask(slow, fps)
    drift = np.arange(50) / 20.0 - np.arange(50) / fps
    assert m.tolist() == (drift > 0.2).tolist()


def test_metrics_from_timing_and_offline_unavailable():
    arr = [0.1 + i / 25 + (0.3 if i == 20 else 0.0) for i in range(50)]
    due = [i / 25 for i in range(50)]
    t = Timing(wall_s=2.5, ttff_s=0.15, n_frames=50, video_duration_s=2.0, peak_rss_mb=300.0, streaming=True,
               paced=True, frame_arrival_s=arr, frame_due_s=due)
    m = _metrics(t)
    assert m["realtime.rtf"] == pytest.approx(1.25)
    assert m["realtime.fps"] == pytest.approx(20.0)
    assert m["realtime.ttff_s"] == pytest.approx(0.15)
    assert m["realtime.latency_p50_s"] == pytest.approx(0.1)
    assert m["realtime.stall_ratio"] == pytest.approx(1 / 50)  # frame 20: 300 ms late
    assert m["realtime.peak_rss_mb"] == 300.0
    assert m["realtime.peak_gpu_mb"].startswith("n/a")
    assert len(m["series:realtime.latency"]["y"]) == 50

    off = _metrics(Timing(wall_s=10.0, n_frames=50, video_duration_s=2.0))
    assert off["realtime.rtf"] == pytest.approx(5.0) and off["realtime.ttff_s"] == pytest.approx(10.0)
    for name in ("realtime.latency_p50_s", "realtime.latency_p95_s", "realtime.stall_ratio"):
        assert off[name] == "n/a: " + R.OFFLINE
    unpaced = _metrics(Timing(wall_s=1.0, ttff_s=0.1, n_frames=50, video_duration_s=2.0, streaming=True, paced=False,
                              frame_arrival_s=arr, frame_due_s=due))
    assert unpaced["realtime.latency_p50_s"] == "n/a: " + R.UNPACED
    assert all(v.startswith("n/a") for v in _metrics(None).values())


# -- the harness on real sessions -----------------------------------------------------------------
def test_paced_replay_times_frames_and_writes_the_video(tmp_path):
    case = make_case(tmp_path, "speak_nod", 2.0, prompts=(PromptEvent(1.0, 1.5, "nod"),))
    sessions = []

    def factory(c):
        sessions.append(synthetic_session(c))
        return sessions[-1]

    t = run_stream(factory, case, tmp_path / "out.mp4", chunk_s=0.04)
    assert t.streaming and t.paced and t.n_frames == 50 == len(t.frame_arrival_s) == len(t.frame_due_s)
    # paced: the run takes the case's length, never much less
    assert 1.9 < t.wall_s < 4.0
    arr, due = np.array(t.frame_arrival_s), np.array(t.frame_due_s)
    assert np.all(np.diff(arr) >= 0)
    assert due.tolist() == pytest.approx([i * 0.04 for i in range(50)])  # frame i is due with chunk i
    lat = arr - due
    assert lat.min() >= 0  # a causal session cannot beat the audio
    assert np.median(lat) < 0.05  # the reference session answers at once (generous: loaded CI)
    assert t.overhead_ms_mean < 1.0, "harness overhead per 40 ms chunk must stay below 1 ms"
    ev = sessions[0].events
    assert [(e.action, e.start) for e in ev] == [("nod", 1.0)]
    info = probe(tmp_path / "out.mp4")
    assert (info.n_frames, info.width, info.height, info.has_audio) == (50, 96, 96, True)
    # the video carries what the session rendered: the mouth region changes with the audio
    mouth = np.array([f[60:76, 38:58].mean() for f in iter_frames(tmp_path / "out.mp4")])
    assert mouth.std() > 1.0


def test_latency_and_stalls_expose_a_batching_and_a_slow_generator(tmp_path):
    case = make_case(tmp_path, "speak_b", 1.6)
    # emits frames in batches of 10 (400 ms): frame i waits for frame 10k+9's audio
    t = run_stream(lambda c: synthetic_session(c, batch=10), case, tmp_path / "b.mp4")
    lat = np.array(t.frame_arrival_s) - np.array(t.frame_due_s)
    expected = (9 - np.arange(40) % 10) * 0.04
    assert np.abs(lat - expected).max() < 0.06
    m = _metrics(t)
    assert 0.12 <= m["realtime.latency_p50_s"] <= 0.3 and m["realtime.stall_ratio"] == 0.0
    # 60 ms of compute per 40 ms frame: falls behind real time, so frames stall
    t = run_stream(lambda c: synthetic_session(c, work_s=0.06), case, tmp_path / "s.mp4")
    m = _metrics(t)
    assert m["realtime.rtf"] > 1.3
    assert m["realtime.stall_ratio"] > 0.3
    assert m["realtime.latency_p95_s"] > 0.5


def test_unpaced_is_as_fast_as_possible_and_timing_survives_a_record(tmp_path):
    case = make_case(tmp_path, "duplex_u", 3.0, mode="duplex")
    t = run_stream(lambda c: synthetic_session(c), case, tmp_path / "u.mp4", paced=False, chunk_s=0.1)
    assert not t.paced and t.n_frames == 75 and t.chunk_s == pytest.approx(0.1)
    assert t.wall_s < 2.0  # a 3 s case, fed without pacing
    assert _metrics(t)["realtime.fps"] > 40
    # record round trip: the case record drops the arrays, the series file keeps them
    back = timing_from_record(t.to_dict(), {k: dict(v) for k, v in frame_series(t).items()})
    assert back.n_frames == 75 and back.frame_arrival_s == pytest.approx(t.frame_arrival_s, abs=1e-6)
    assert back.overhead_ms_mean == t.overhead_ms_mean


def test_harness_memory_does_not_grow_with_case_length(tmp_path):
    import tracemalloc

    def peak(duration):
        case = make_case(tmp_path, f"long_{int(duration)}", duration, size=64)
        from lpmbench.media import load_audio

        agent = load_audio(case.agent_audio, duration=duration)
        partner = np.zeros_like(agent)
        tracemalloc.start()
        run_stream(lambda c: synthetic_session(c), case, tmp_path / "l.mp4", paced=False, agent=agent,
                   partner=partner)
        _, p = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return p

    short, long = peak(8.0), peak(32.0)
    # 600 more frames of 64x64x3 would be +7 MB if frames were kept; per-frame floats are 16 bytes
    assert long - short < 1.5e6, (short, long)


def test_session_errors_propagate_and_leave_no_half_video(tmp_path):
    from lpmbench.adapters.base import AdapterError, StreamSession

    class Broken(StreamSession):
        def __init__(self):
            self.n = 0

        def feed(self, chunk):
            self.n += 1
            if self.n == 5:
                raise AdapterError("model crashed at chunk 5")
            return [np.zeros((96, 96, 3), np.uint8)]

    case = make_case(tmp_path, "broken", 1.0)
    with pytest.raises(AdapterError, match="chunk 5"):
        run_stream(lambda c: Broken(), case, tmp_path / "x.mp4", paced=False)
    assert not (tmp_path / "x.mp4").exists()
