"""The weight-file registry: lookup order, messages, checksums, status table and fetch."""
from __future__ import annotations

import functools
import hashlib
import http.server
import socket
import threading
import zipfile
from dataclasses import replace

import pytest

from lpmbench import weights as W


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No user folder or override leaks into the tests."""
    monkeypatch.setenv(W.ENV_DIR, str(tmp_path / "weights"))
    for spec in W.WEIGHTS.values():
        monkeypatch.delenv(spec.env_var, raising=False)


def test_registry_entries_name_their_source():
    assert {"syncnet_v2", "arcface", "open_clip", "fid_inception"} <= set(W.WEIGHTS)
    for spec in W.WEIGHTS.values():
        assert spec.url.startswith("http") and spec.license and spec.filename
        assert spec.sha256 is None or len(spec.sha256) == 64  # never an invented checksum
    assert W.WEIGHTS["syncnet_v2"].filename == "syncnet_v2.model"
    assert W.WEIGHTS["arcface"].filename == "w600k_r50.onnx"


def test_missing_file_message_says_what_where_and_how(tmp_path):
    with pytest.raises(W.WeightsMissing) as e:
        W.locate("syncnet_v2")
    msg = str(e.value)
    assert "syncnet_v2.model" in msg
    assert str(tmp_path / "weights" / "syncnet") in msg
    assert W.WEIGHTS["syncnet_v2"].url in msg
    assert "lpmbench weights fetch syncnet_v2" in msg
    with pytest.raises(KeyError, match="did you mean|Did you mean"):
        W.locate("syncnet")


def test_lookup_order(tmp_path, monkeypatch):
    root = tmp_path / "weights"
    (root / "syncnet").mkdir(parents=True)
    flat = root / "syncnet_v2.model"
    flat.write_bytes(b"flat")
    assert W.locate("syncnet_v2") == flat  # directly in the weights folder
    sub = root / "syncnet" / "syncnet_v2.model"
    sub.write_bytes(b"sub")
    assert W.locate("syncnet_v2") == sub  # the entry's sub-folder first
    explicit = tmp_path / "other"
    explicit.mkdir()
    (explicit / "syncnet_v2.model").write_bytes(b"explicit")
    assert W.locate("syncnet_v2", weights_dir=explicit) == explicit / "syncnet_v2.model"
    own = tmp_path / "mine.model"
    own.write_bytes(b"own")
    monkeypatch.setenv("LPMBENCH_WEIGHTS_SYNCNET_V2", str(own))
    assert W.locate("syncnet_v2") == own  # the per-file variable wins
    # a folder is accepted too (e.g. an insightface model folder)
    folder = tmp_path / "buffalo"
    folder.mkdir()
    (folder / "w600k_r50.onnx").write_bytes(b"x")
    monkeypatch.setenv("LPMBENCH_WEIGHTS_ARCFACE", str(folder))
    assert W.locate("arcface") == folder / "w600k_r50.onnx"
    # open_clip accepts its .safetensors variant
    st = root / "open_clip" / "open_clip_model.safetensors"
    st.parent.mkdir()
    st.write_bytes(b"st")
    assert W.locate("open_clip") == st


def test_verify_and_require(tmp_path, monkeypatch):
    root = tmp_path / "weights"
    assert W.verify("syncnet_v2") == "missing"
    (root / "syncnet").mkdir(parents=True)
    (root / "syncnet" / "syncnet_v2.model").write_bytes(b"whatever")
    assert W.verify("syncnet_v2") == "unverified"  # no official checksum is published
    (root / "fid").mkdir()
    bad = root / "fid" / W.WEIGHTS["fid_inception"].filename
    bad.write_bytes(b"not the inception weights")
    assert W.verify("fid_inception") == "mismatch"  # the file name's sha256 prefix is checked
    with pytest.raises(W.WeightsCorrupt, match="6726825d"):
        W.require("fid_inception")
    content = b"pinned"
    spec = replace(W.WEIGHTS["syncnet_v2"], name="pinned", subdir="", sha256=hashlib.sha256(content).hexdigest())
    monkeypatch.setitem(W.WEIGHTS, "pinned", spec)
    (root / spec.filename).write_bytes(content)
    (root / "syncnet" / "syncnet_v2.model").unlink()
    assert W.verify("pinned") == "ok"
    (root / spec.filename).write_bytes(b"tampered")
    assert W.verify("pinned") == "mismatch"


def test_status_table_and_format(tmp_path):
    root = tmp_path / "weights" / "syncnet"
    root.mkdir(parents=True)
    (root / "syncnet_v2.model").write_bytes(b"x")
    rows = {r["name"]: r for r in W.status_table()}
    assert rows["syncnet_v2"]["present"] and rows["syncnet_v2"]["sha256"] == "unverified"
    assert rows["syncnet_v2"]["path"] == str(root / "syncnet_v2.model")
    assert not rows["arcface"]["present"] and rows["arcface"]["sha256"] == "missing"
    assert rows["arcface"]["source"].endswith("buffalo_l.zip")
    text = W.format_table(list(rows.values()))
    assert "syncnet_v2" in text and "unverified" in text and "lpmbench weights fetch" in text
    assert text.splitlines()[0].split()[:4] == ["name", "backend", "present", "sha256"]


@pytest.fixture()
def http_dir(tmp_path):
    """A loopback HTTP server serving a folder."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_over_http(tmp_path, http_dir):
    served, base = http_dir
    (served / "syncnet_v2.model").write_bytes(b"\x00weights" * 1000)
    path = W.fetch("syncnet_v2", url=f"{base}/syncnet_v2.model", progress=False)
    assert path == tmp_path / "weights" / "syncnet" / "syncnet_v2.model"
    assert path.read_bytes() == b"\x00weights" * 1000
    assert W.locate("syncnet_v2") == path
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".part")]


def test_fetch_extracts_the_member_of_a_zip(tmp_path):
    archive = tmp_path / "buffalo_l.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("buffalo_l/det_10g.onnx", b"detector")
        z.writestr("buffalo_l/w600k_r50.onnx", b"recognition")
    path = W.fetch("arcface", url=archive.as_uri(), progress=False)
    assert path.name == "w600k_r50.onnx" and path.read_bytes() == b"recognition"
    assert sorted(p.name for p in path.parent.iterdir()) == ["w600k_r50.onnx"]


def test_fetch_without_network_fails_clearly(tmp_path):
    with socket.socket() as s:  # a port nobody listens on: connection refused, like no network
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(W.WeightsFetchError) as e:
        W.fetch("syncnet_v2", url=f"http://127.0.0.1:{port}/syncnet_v2.model", timeout=5, progress=False)
    msg = str(e.value)
    assert "syncnet_v2.model" in msg and str(tmp_path / "weights" / "syncnet" / "syncnet_v2.model") in msg
    assert W.verify("syncnet_v2") == "missing"


def test_fetch_refuses_a_checksum_mismatch(tmp_path, http_dir):
    served, base = http_dir
    name = W.WEIGHTS["fid_inception"].filename
    (served / name).write_bytes(b"not inception")
    with pytest.raises(W.WeightsFetchError, match="6726825d"):
        W.fetch("fid_inception", url=f"{base}/{name}", progress=False)
    folder = tmp_path / "weights" / "fid"
    assert not folder.exists() or not any(folder.iterdir())


def test_fetch_falls_back_to_a_mirror(tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/buffalo_l.zip"
    archive = tmp_path / "buffalo_l.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("w600k_r50.onnx", b"recognition")
    spec = replace(W.WEIGHTS["arcface"], url=dead, mirrors=(archive.as_uri(),))
    monkeypatch.setitem(W.WEIGHTS, "arcface", spec)
    assert W.fetch("arcface", timeout=5, progress=False).read_bytes() == b"recognition"
