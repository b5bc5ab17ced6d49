"""Property-based tests (hypothesis) of everything that parses outside input: suite files, run
folders, streaming messages and command lines. Every generated input ends in success or one known
error with a message; never another exception, a hang (pytest-timeout bounds each test) or a traceback.
"""
from __future__ import annotations

import contextlib
import io
import json
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from lpmbench.case import SuiteError, load_suite
from lpmbench.results import ResultsError, load_run, validate_run
from lpmbench.streaming import protocol as P

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

# any JSON value, small: what a hostile file can hold
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10 ** 20), 10 ** 20) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4),
    max_leaves=12,
)
ids = st.sampled_from(["c1", "x", ".", "..", "-h", "a/b", "x\n", "", "ü", "a" * 200]) | st.text(max_size=12)


def known(e: BaseException, *kinds: type) -> None:
    """An error lpmbench means: one of ``kinds``, with a message of one or a few lines."""
    assert isinstance(e, kinds), f"{type(e).__name__}: {e}"
    assert str(e).strip(), f"{type(e).__name__} without a message"


# -- the suite loader --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def suite_base(tmp_path_factory) -> tuple[Path, dict]:
    from conftest import write_suite

    root = write_suite(tmp_path_factory.mktemp("prop_suite"),
                       "  - {id: c1, mode: silence, character: astronaut, duration: 1.0}\n", name="prop")
    return root, yaml.safe_load((root / "suite.yaml").read_text())


def _load_suite_text(root: Path, text: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "s"
        shutil.copytree(root, folder)
        (folder / "suite.yaml").write_text(text)
        try:
            suite = load_suite(folder, check_audio=True)
        except Exception as e:  # noqa: BLE001 - the property: only SuiteError
            known(e, SuiteError)
        else:
            assert suite.cases and all(c.id for c in suite.cases)


@FAST
@given(field=st.sampled_from(["id", "mode", "character", "duration", "fps", "resolution", "prompts", "tags",
                              "agent_audio", "partner_audio", "language", "transcript", "unknown"]),
       value=json_values | ids)
def test_suite_loader_on_a_mutated_case(suite_base, field, value):
    root, base = suite_base
    m = json.loads(json.dumps(base))
    m["cases"][0][field] = value
    _load_suite_text(root, yaml.safe_dump(m))


@FAST
@given(field=st.sampled_from(["name", "version", "characters", "cases", "defaults", "assets", "description", "x"]),
       value=json_values | ids)
def test_suite_loader_on_a_mutated_top_level(suite_base, field, value):
    root, base = suite_base
    m = json.loads(json.dumps(base))
    m[field] = value
    _load_suite_text(root, yaml.safe_dump(m))


@FAST
@given(text=st.text(alphabet=st.sampled_from(list("&*[]{}:,-!|>'\"#\n abc01.")), max_size=200))
def test_suite_loader_on_yaml_noise(suite_base, text):
    _load_suite_text(suite_base[0], text)


# -- the results loader ------------------------------------------------------------------------------
MANIFEST = {"schema_version": 1, "run_id": "r", "harness": {}, "model": {"name": "m"},
            "suite": {"name": "s", "selected": ["c1"]}, "status": "finished", "protocol": "p", "started_at": "t",
            "metrics": {"identity.csim": {"dimension": "identity", "direction": "higher", "version": 1}}}
RECORD = {"case_id": "c1", "status": "ok", "mode": "speak", "values": {"identity.csim": 0.9}, "tags": [], "timing": {}}


def _check_run(manifest: object, lines: list[str]) -> None:
    from lpmbench.leaderboard.data import load_results
    from lpmbench.leaderboard.tables import build_table

    with tempfile.TemporaryDirectory() as d:
        run_dir = Path(d) / "results" / "r"
        run_dir.mkdir(parents=True)
        (run_dir / "manifest.json").write_text(manifest if isinstance(manifest, str) else json.dumps(manifest))
        (run_dir / "cases.jsonl").write_text("".join(x + "\n" for x in lines))
        try:
            run = load_run(run_dir)
        except Exception as e:  # noqa: BLE001
            known(e, ResultsError)
        else:
            for p in validate_run(run):
                assert str(p)
            for cid in run.cases:
                try:
                    run.series(cid)
                    run.video_path(cid)
                except Exception as e:  # noqa: BLE001
                    known(e, ResultsError)
        data = load_results(run_dir.parent)  # the leaderboard: never raises, whatever the folder holds
        build_table(data, n_boot=0)


@FAST
@given(field=st.sampled_from(sorted(MANIFEST) + ["reference", "backends", "config", "corpus", "hardware", "executor"]),
       value=json_values)
def test_results_loader_on_a_mutated_manifest(field, value):
    _check_run({**MANIFEST, field: value}, [json.dumps(RECORD)])


@FAST
@given(field=st.sampled_from(sorted(RECORD) + ["unavailable", "error", "series", "video", "states", "details"]),
       value=json_values)
def test_results_loader_on_a_mutated_case_line(field, value):
    _check_run(MANIFEST, [json.dumps(RECORD), json.dumps({**RECORD, field: value})])


@FAST
@given(line=st.text(max_size=200) | json_values.map(json.dumps), manifest=st.text(max_size=50) | json_values.map(json.dumps))
def test_results_loader_on_arbitrary_lines(line, manifest):
    assume("\n" not in line and "\r" not in line)
    _check_run(MANIFEST, [line])
    _check_run(manifest, [json.dumps(RECORD)])


# -- the streaming protocol --------------------------------------------------------------------------
def _image(kind: str) -> bytes:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
    if kind == "jpeg":
        return P.encode_jpeg(img)
    import cv2

    return cv2.imencode(".png", img)[1].tobytes()


DEEP = "[" * 100_000 + "]" * 100_000  # json.loads: RecursionError
HUGE_INT = '{"type": "x", "n": ' + "9" * 5000 + "}"  # json.loads: ValueError (int digit limit)


@FAST
@given(data=st.binary(max_size=300) | st.text(max_size=300))
@example(data=DEEP)
@example(data=HUGE_INT)
@example(data=P.pack({"type": "x"})[:4] + DEEP.encode())
@example(data=struct.pack(">I", len(HUGE_INT)) + HUGE_INT.encode())
def test_unpack_on_arbitrary_messages(data):
    try:
        header, payload = P.unpack(data)
    except Exception as e:  # noqa: BLE001
        known(e, P.ProtocolError)
    else:
        assert isinstance(header, dict) and isinstance(header["type"], str) and isinstance(payload, bytes)


@FAST
@given(header=st.dictionaries(st.text(max_size=8), json_values, max_size=5), payload=st.binary(max_size=200))
def test_unpack_of_a_packed_header_and_of_any_length_prefix(header, payload):
    msg = P.pack({**header, "type": "x"}, payload)
    h, p = P.unpack(msg)
    assert h["type"] == "x" and p == payload
    for n in (0, 3, len(msg) - 4, 2 ** 32 - 1):
        try:
            P.unpack(struct.pack(">I", n) + msg[4:])
        except Exception as e:  # noqa: BLE001
            known(e, P.ProtocolError)


@FAST
@given(header=st.fixed_dictionaries({}, optional={
    "n_samples": json_values, "seq": json_values, "t0": json_values, "events": json_values, "last": json_values}),
    payload=st.binary(max_size=64))
def test_unpack_chunk_on_arbitrary_headers(header, payload):
    try:
        seq, t0, agent, partner, events, last = P.unpack_chunk(header, payload)
    except Exception as e:  # noqa: BLE001
        known(e, P.ProtocolError)
    else:
        assert len(agent) == len(partner) and agent.dtype == np.float32 and isinstance(last, bool)


@FAST
@given(kind=st.sampled_from(["png", "jpeg"]), cuts=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)),
                                                            max_size=6), length=st.integers(0, 2000))
def test_decode_image_on_damaged_images(kind, cuts, length):
    data = bytearray(_image(kind))
    for at, byte in cuts:
        if at < len(data):
            data[at] = byte
    data = bytes(data[:length])
    try:
        img = P.decode_image(data, max_pixels=4096)
    except Exception as e:  # noqa: BLE001
        known(e, P.ProtocolError)
    else:
        assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8


# -- the command line's overrides --------------------------------------------------------------------
KEYS = ["model", "suite", "metrics", "executor", "run.id", "run.timeout_s", "run.cases", "run.shard", "run.keep_videos",
        "analysis.options", "model.params.argv", "run", "+x", "~run.id", "metrics.select", "a..b", ""]
VALUES = st.sampled_from(["puppet", "static", "smoke", "nosuch", "[a,b", "{x}", "${oc.env:HOME}", "${x}", "1/2", "0/0",
                          "-1", "null", "true", "[{reference}]", "'q'", "\"", "", "a=b", "all"]) | st.text(max_size=10)
OVERRIDES = st.lists(st.builds(lambda k, eq, v: f"{k}{eq}{v}", st.sampled_from(KEYS), st.sampled_from(["=", ""]), VALUES),
                     max_size=4)


def _config_error(e: BaseException) -> bool:
    return type(e).__module__.split(".")[0] in ("hydra", "omegaconf")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(overrides=OVERRIDES)
def test_compose_on_generated_overrides(overrides):
    from lpmbench.config import compose
    from lpmbench.registry import RegistryError

    try:
        compose(overrides)
    except Exception as e:  # noqa: BLE001
        if not _config_error(e):
            known(e, SuiteError, RegistryError, ValueError)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(overrides=OVERRIDES, command=st.sampled_from(["evaluate --cfg", "score v.mp4 --reference r.png", "list suites",
                                                      "validate nowhere", "bogus"]))
def test_the_cli_ends_in_output_or_one_error_line(overrides, command):
    from lpmbench.cli import main

    argv = command.split() + overrides
    if command.startswith("score"):
        argv += ["--json", "/dev/null/never"]  # never reached: the video does not exist
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            rc = main(argv)
        except SystemExit as e:  # argparse's usage error
            rc = e.code
    lines = [x for x in err.getvalue().splitlines() if x.strip()]
    assert "Traceback" not in err.getvalue()
    assert rc in (0, 1, 2), (argv, rc, err.getvalue()[-2000:])
    if rc == 2:  # Hydra's own parse errors add a line or two of detail after lpmbench's error line
        assert lines and any(x.startswith(("lpmbench", "usage:")) and "error" in x for x in lines), argv
