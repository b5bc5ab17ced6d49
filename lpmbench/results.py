"""The results schema: the layout of a run folder, the records in it, the hashes that key them, the
validator every reader uses, and the store, which is the only writer of ``results/<run>/``.

Layout of one run (:class:`RunLayout` is the only code that knows these names)::

    manifest.json      RunManifest (below), rewritten atomically at start and at the end
    cases.jsonl        one CaseRecord per line, appended (and fsynced) as soon as a case finishes
    series/<case>.npz  per-frame curves of a case: arrays "<series>.t", "<series>.y" [, "<series>.y2"]
    videos/<case>.mp4  the generated video (optional; may be pruned to keep a repository small)
    config.yaml        the resolved configuration of the run
    .lock              held (flock) by the one process writing the run; says who that is

A case may appear more than once in ``cases.jsonl`` (a rescore appends a newer record); the
loader keeps the last record per case id. Schema version: :data:`SCHEMA_VERSION`.

Readers trust no file of a run folder (the leaderboard serves folders people send in): sizes are
checked before anything is read or expanded. A file over its cap, or a series array that is not a
1-D float array of at most :data:`MAX_SERIES_POINTS` samples, is a :class:`ResultsError` naming the
file; a case line over :data:`MAX_RECORD_BYTES` is skipped like a torn one.

Hashes (one recipe each, here):

- :func:`case_input_hash`: a case's definition and every input file it reads. Equal hashes mean
  equal inputs; the analysis cache keys on it too.
- :func:`protocol_hash`: suite content, metric versions, feature backends (with their weights)
  and the human reference scores are computed against. Only runs of equal protocol are ranked
  together.

:func:`validate_run` is what ``lpmbench validate``, ``lpmbench rescore`` and the leaderboard all
check, so a run that validates is a run the leaderboard shows.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .case import Case

SCHEMA_VERSION = 1
MAX_MANIFEST_JSON_BYTES = 16 << 20  # manifest.json (a real one is some 20 kB, its frozen config included)
MAX_CASES_BYTES = 512 << 20  # cases.jsonl (10 kB a record: 50,000 records, rescores included)
MAX_RECORD_BYTES = 16 << 20  # one line of cases.jsonl
MAX_SERIES_BYTES = 64 << 20  # a series .npz, on disk and expanded (a 10 min case: 0.5 MB on disk, 2 MB expanded)
MAX_SERIES_POINTS = 1 << 22  # samples of one series array (46 h at 25 fps)
MAX_SERIES_ARRAYS = 4096  # arrays in one series file (a case has some 30)
SERIES_PARTS = ("t", "y", "y2")  # the arrays of one series: "<series>.t", "<series>.y" [, "<series>.y2"]
RUN_STATUSES = ("running", "finished", "interrupted")
CASE_STATUSES = ("ok", "error", "skipped")


class ResultsError(ValueError):
    """A run folder is malformed; the message names the file and the problem."""


class RunLocked(ResultsError):
    """Another process is writing this run folder."""


# -- layout ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunLayout:
    """Every path inside one run folder."""

    dir: Path

    @property
    def manifest(self) -> Path:
        return self.dir / "manifest.json"

    @property
    def cases(self) -> Path:
        return self.dir / "cases.jsonl"

    @property
    def config(self) -> Path:
        return self.dir / "config.yaml"

    @property
    def lock(self) -> Path:
        return self.dir / ".lock"

    @property
    def videos_dir(self) -> Path:
        return self.dir / "videos"

    @property
    def series_dir(self) -> Path:
        return self.dir / "series"

    def video(self, case_id: str) -> Path:
        return self.videos_dir / f"{case_id}.mp4"

    def series(self, case_id: str) -> Path:
        return self.series_dir / f"{case_id}.npz"

    def rel(self, path: Path) -> str:
        return Path(path).relative_to(self.dir).as_posix()

    def inside(self, rel: str | None) -> Path | None:
        """The file a record's relative path names, or None if it is absent or escapes the run."""
        if not rel:
            return None
        try:
            p = (self.dir / rel).resolve()
        except (OSError, ValueError):  # a NUL byte, a symlink loop
            return None
        return p if self.dir.resolve() in p.parents and p.is_file() else None


# -- records --------------------------------------------------------------------------------------
@dataclass
class RunManifest:
    schema_version: int  # SCHEMA_VERSION of the writer
    run_id: str  # folder name
    harness: dict[str, Any]  # {"version": lpmbench version, "git_revision": str | None}
    suite: dict[str, Any]  # {"name", "version", "hash" (sha256 of manifest + assets), "n_cases", "path", "selected"}
    model: dict[str, Any]  # {"name" (display), "adapter", "version", "fingerprint", "streaming", "config"}
    metrics: dict[str, dict[str, Any]]  # metric name -> MetricSpec.to_dict() (version, direction, ...)
    backends: dict[str, dict[str, Any]]  # feature backend -> {"version", "weights_sha256", "available", "reason"}
    analysis: dict[str, Any]  # analyzer version and config (detection stride, embedding rate, ...)
    hardware: dict[str, Any]  # {"platform", "cpu", "cpu_count", "memory_gb", "gpu", "torch"}
    started_at: str  # ISO 8601 UTC
    finished_at: str | None = None  # None while running or when interrupted
    status: str = "running"  # running | finished | interrupted
    protocol: str = ""  # protocol_hash(...): only equal protocols are ranked
    config: dict[str, Any] = field(default_factory=dict)  # the resolved configuration
    reference: dict[str, Any] = field(default_factory=dict)  # HumanReference.describe(): id, name, version
    # corpus-level metrics over the run's cases: name -> {"value", "n_cases"} or {"unavailable": why}
    corpus: dict[str, Any] = field(default_factory=dict)
    executor: dict[str, Any] = field(default_factory=dict)  # what ran the cases: name, nodes, ...

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunManifest":
        missing = [k for k in ("schema_version", "run_id", "harness", "suite", "model", "metrics", "started_at") if k not in d]
        if missing:
            raise ResultsError(f"manifest.json: missing field(s) {missing}")
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        known.setdefault("backends", {})
        known.setdefault("analysis", {})
        known.setdefault("hardware", {})
        return cls(**known)


@dataclass
class CaseRecord:
    case_id: str
    status: str  # "ok" (metrics computed) | "error" (generation or analysis failed) | "skipped" (unsupported)
    mode: str
    style: str
    character: str
    tags: list[str]
    input_hash: str  # case_input_hash(case)
    values: dict[str, float] = field(default_factory=dict)  # metric name -> value
    unavailable: dict[str, str] = field(default_factory=dict)  # metric name -> reason
    # {"stage": generate|analyze|score, "type": exception class, "message": str, "detail": tail} or None
    error: dict[str, Any] | None = None
    timing: dict[str, Any] = field(default_factory=dict)  # Timing.to_dict()
    video: str | None = None  # path relative to the run folder
    video_sha256: str | None = None
    features_key: str | None = None  # analysis cache key
    series: str | None = None  # path of the series file relative to the run folder
    details: dict[str, Any] = field(default_factory=dict)
    # corpus-level metrics: name -> additive per-case state {key: nested list} (MetricOutput.states)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CaseRecord":
        if not isinstance(d, dict):
            raise ResultsError(f"a case record must be a JSON object, got {type(d).__name__}")
        for k in ("case_id", "status"):
            if k not in d:
                raise ResultsError(f"case record without {k!r}")
        if not isinstance(d["case_id"], str) or not d["case_id"]:
            raise ResultsError(f"case_id must be a non-empty string, got {d['case_id']!r}")
        if d["status"] not in CASE_STATUSES:
            raise ResultsError(f"case {d['case_id']!r}: unknown status {d['status']!r}")
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        for k, default in (("mode", ""), ("style", ""), ("character", ""), ("tags", []), ("input_hash", "")):
            known.setdefault(k, default)
        for k, kind in (("values", dict), ("unavailable", dict), ("timing", dict), ("details", dict), ("tags", list),
                        ("states", dict)):
            if k in known and not isinstance(known[k], kind):
                raise ResultsError(f"case {d['case_id']!r}: field {k!r} must be a JSON {'object' if kind is dict else 'array'}")
        for name, v in (known.get("values") or {}).items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
                raise ResultsError(f"case {d['case_id']!r}: metric {name!r} has non-finite value {v!r}")
        if known.get("error") is not None and not isinstance(known["error"], dict):
            raise ResultsError(f"case {d['case_id']!r}: field 'error' must be an object or null")
        for k in ("video", "series", "video_sha256", "features_key"):
            if known.get(k) is not None and not isinstance(known[k], str):
                raise ResultsError(f"case {d['case_id']!r}: field {k!r} must be a string or null")
        for name, st in (known.get("states") or {}).items():
            if not isinstance(st, dict) or not all(isinstance(v, (list, int, float)) for v in st.values()):
                raise ResultsError(f"case {d['case_id']!r}: state of {name!r} must map keys to numbers or arrays")
        return cls(**known)


def utcnow() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# -- hashes ---------------------------------------------------------------------------------------
def case_input_hash(case: "Case") -> str:
    """sha256 of the case's definition and every input file: equal hashes mean equal inputs."""
    import hashlib

    from .media import file_sha256

    h = hashlib.sha256()
    d = case.to_dict()
    for k in ("references", "agent_audio", "partner_audio", "ground_truth"):
        d.pop(k, None)  # paths differ between machines; their contents are hashed below
    h.update(json.dumps(d, sort_keys=True).encode())
    for p in (*case.character.references, case.agent_audio, case.partner_audio):
        h.update(file_sha256(p).encode() if p else b"-")
    if case.ground_truth:
        h.update(b"gt:" + file_sha256(case.ground_truth).encode())
    return h.hexdigest()


def protocol_hash(suite_hash: str, metric_specs: dict[str, Any], backends: dict[str, Any],
                  reference: str | None = None) -> str:
    """Runs are ranked together only when suite, metric versions, feature backends and the human
    reference their scores are formed against agree."""
    import hashlib

    key: dict[str, Any] = {
        "suite": suite_hash,
        "metrics": {n: (s or {}).get("version") for n, s in sorted(metric_specs.items())},
        "backends": {n: (b.get("name"), b.get("version"), b.get("weights_sha256"))
                     for n, b in sorted(backends.items()) if isinstance(b, dict)},
    }
    if reference:
        key["reference"] = reference
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


# -- reading --------------------------------------------------------------------------------------
@dataclass
class Run:
    dir: Path
    manifest: RunManifest
    cases: dict[str, CaseRecord]  # last record per case id
    problems: list[str] = field(default_factory=list)  # non-fatal issues (bad lines skipped)

    @property
    def layout(self) -> RunLayout:
        return RunLayout(self.dir)

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    def series(self, case_id: str, names: Iterable[str] | None = None) -> dict[str, dict[str, np.ndarray]]:
        """The per-frame series of a case (only ``names``, if given): {series: {"t", "y"[, "y2"]: array}};
        {} when it has none. Raises :class:`ResultsError` on a malformed or oversized file."""
        rec = self.cases.get(case_id)
        path = self.layout.inside(rec.series if rec else None)
        return {} if path is None else read_series(path, names)

    def video_path(self, case_id: str) -> Path | None:
        rec = self.cases.get(case_id)
        return self.layout.inside(rec.video if rec else None)


def read_series(path: Path, names: Iterable[str] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """A series file (``.npz``) read without trusting it: its size, the number and expanded sizes of
    its members (from the zip directory) and each array's dtype and shape (from its ``.npy`` header)
    are checked before any data is decompressed."""
    import zipfile

    where = f"series file {path}"
    wanted = None if names is None else set(names)
    out: dict[str, dict[str, np.ndarray]] = {}
    try:
        size = path.stat().st_size
        if size > MAX_SERIES_BYTES:
            raise ResultsError(f"{where}: {size} bytes, more than the {MAX_SERIES_BYTES >> 20} MiB a series file may have")
        with open(path, "rb") as f:
            _check_zip_entries(f, where)
            with zipfile.ZipFile(f) as z:
                infos = z.infolist()
                expanded = sum(i.file_size for i in infos)
                if expanded > MAX_SERIES_BYTES:
                    raise ResultsError(f"{where}: expands to {expanded} bytes, more than the {MAX_SERIES_BYTES >> 20} MiB "
                                       "a series file may hold (a decompression bomb?)")
                for info in infos:
                    name, _, part = info.filename.removesuffix(".npy").rpartition(".")
                    if not info.filename.endswith(".npy") or not name or part not in SERIES_PARTS:
                        raise ResultsError(f"{where}: unexpected member {info.filename!r} (expected <series>.t/.y/.y2)")
                    if wanted is None or name in wanted:
                        with z.open(info) as m:
                            out.setdefault(name, {})[part] = _read_series_array(m, f"{where}, array {info.filename!r}")
    except ResultsError:
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zipfile.LargeZipFile) as e:
        raise ResultsError(f"{where}: unreadable ({e})") from None
    for name, parts in out.items():
        if len({len(a) for a in parts.values()}) > 1:
            raise ResultsError(f"{where}: the arrays of series {name!r} differ in length")
    return out


def _check_zip_entries(f: Any, where: str) -> None:
    """Refuse a zip whose end record announces more than MAX_SERIES_ARRAYS members, before zipfile
    builds its directory (millions of tiny members would cost far more memory than the file)."""
    f.seek(0, os.SEEK_END)
    tail_at = max(0, f.tell() - (1 << 16) - 22)
    f.seek(tail_at)
    tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        raise ResultsError(f"{where}: not a series file (no zip end record)")
    entries = int.from_bytes(tail[at + 10:at + 12], "little")
    if entries > MAX_SERIES_ARRAYS:  # 0xFFFF (zip64) included: numpy writes zip64 only past 65535 members
        raise ResultsError(f"{where}: {entries} members, more than the {MAX_SERIES_ARRAYS} a series file may have")
    f.seek(0)


def _read_series_array(m: Any, where: str) -> np.ndarray:
    """One ``.npy`` member: a 1-D float array of at most MAX_SERIES_POINTS samples, checked from its
    header before its data is read."""
    fmt = np.lib.format
    version = fmt.read_magic(m)
    if version not in ((1, 0), (2, 0)):
        raise ResultsError(f"{where}: .npy format version {version} is not one lpmbench writes")
    shape, _, dtype = (fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0)(m)
    if dtype.kind != "f" or len(shape) != 1:
        raise ResultsError(f"{where}: expected a 1-D float array, got dtype {dtype} and shape {shape}")
    if shape[0] > MAX_SERIES_POINTS:
        raise ResultsError(f"{where}: {shape[0]} samples, more than the {MAX_SERIES_POINTS} a series may have")
    data = m.read(shape[0] * dtype.itemsize)
    if len(data) != shape[0] * dtype.itemsize:
        raise ResultsError(f"{where}: truncated ({len(data)} of {shape[0] * dtype.itemsize} bytes)")
    return np.frombuffer(data, dtype=dtype).astype(dtype.newbyteorder("="))


def iter_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, parsed value or None, problem or None) for each line of a cases.jsonl; a line
    longer than MAX_RECORD_BYTES is skipped unread (its problem says so)."""
    with open(path, "rb") as f:
        i = 0
        while line := f.readline(MAX_RECORD_BYTES + 1):
            i += 1
            if len(line) > MAX_RECORD_BYTES:
                while line and not line.endswith(b"\n"):
                    line = f.readline(1 << 20)
                yield i, None, f"cases.jsonl line {i}: longer than {MAX_RECORD_BYTES >> 20} MiB: skipped"
                continue
            if not line.strip():
                continue
            try:
                yield i, json.loads(line.decode("utf-8", errors="replace")), None
            except json.JSONDecodeError as e:
                # a run killed mid-write leaves a torn last line: report it, keep the rest
                yield i, None, f"cases.jsonl line {i}: not valid JSON ({e.msg})"
            except (ValueError, RecursionError) as e:  # a number of 5000 digits, arrays nested 100,000 deep
                yield i, None, f"cases.jsonl line {i}: not a usable JSON value ({type(e).__name__}: {str(e)[:100]})"


def load_run(run_dir: str | Path, *, strict: bool = False) -> Run:
    """Load a run folder. Raises :class:`ResultsError` when the manifest is unusable; bad case
    lines are skipped and listed in ``Run.problems`` (or raise when ``strict``)."""
    layout = RunLayout(Path(run_dir))
    if not layout.manifest.is_file():
        raise ResultsError(f"{layout.dir}: no manifest.json")
    for path, cap in ((layout.manifest, MAX_MANIFEST_JSON_BYTES), (layout.cases, MAX_CASES_BYTES)):
        size = path.stat().st_size if path.is_file() else 0
        if size > cap:
            raise ResultsError(f"{path}: {size} bytes, more than the {cap >> 20} MiB lpmbench reads")
    try:
        mdata = json.loads(layout.manifest.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as e:  # JSONDecodeError, UnicodeDecodeError, 5000-digit numbers, deep nesting
        raise ResultsError(f"{layout.manifest}: not valid JSON ({type(e).__name__}: {str(e)[:200]})") from None
    if not isinstance(mdata, dict):
        raise ResultsError(f"{layout.manifest}: expected a JSON object")
    manifest = RunManifest.from_dict(mdata)
    if not isinstance(manifest.schema_version, int) or manifest.schema_version > SCHEMA_VERSION:
        raise ResultsError(f"{layout.manifest}: schema version {manifest.schema_version!r} is not one this lpmbench "
                           f"reads (<= {SCHEMA_VERSION})")
    cases: dict[str, CaseRecord] = {}
    problems: list[str] = []
    if layout.cases.is_file():
        for i, d, problem in iter_records(layout.cases):
            if problem is None:
                try:
                    rec = CaseRecord.from_dict(d)
                    cases[rec.case_id] = rec
                    continue
                except (ResultsError, TypeError) as e:
                    problem = f"cases.jsonl line {i}: {e}"
            if strict:
                raise ResultsError(f"{layout.dir}: {problem}")
            problems.append(problem)
    return Run(layout.dir, manifest, cases, problems)


def list_runs(results_dir: str | Path) -> tuple[list[Run], list[tuple[Path, str]]]:
    """All loadable runs under a results folder, and (folder, problem) for those that are not."""
    runs: list[Run] = []
    bad: list[tuple[Path, str]] = []
    root = Path(results_dir)
    if not root.is_dir():
        return runs, bad
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            runs.append(load_run(d))
        except (ResultsError, OSError, TypeError, ValueError) as e:
            bad.append((d, str(e)))
    return runs, bad


# -- validation -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One finding of :func:`validate_run`. ``fatal`` problems make the run unusable."""

    message: str
    fatal: bool = True

    def __str__(self) -> str:
        return self.message


def validate_run(run: Run, *, require_finished: bool = True, check_files: bool = True) -> list[Problem]:
    """Everything that keeps a run off the leaderboard (fatal) or deserves a note (warnings).

    Fatal: manifest fields of the wrong type, a metric spec that cannot be scored, an unknown
    status, no case records, and (``require_finished``) a run that did not finish or lacks a
    record for a selected case. Warnings: skipped bad lines, values of undeclared metrics, stored
    files that are missing.
    """
    from .metric_api import MetricSpec

    m = run.manifest
    out: list[Problem] = []
    for fname in ("harness", "suite", "model", "metrics", "backends", "hardware", "analysis", "config", "reference", "corpus",
                  "executor"):
        if not isinstance(getattr(m, fname), dict):
            out.append(Problem(f"manifest.json: field {fname!r} must be an object, got {type(getattr(m, fname)).__name__}"))
    if out:
        return out
    if not isinstance(m.run_id, str) or not m.run_id:
        out.append(Problem("manifest.json: run_id must be a non-empty string"))
    if not isinstance(m.model.get("name"), str) or not m.model.get("name"):
        out.append(Problem("manifest.json: model.name must be a non-empty string"))
    if not isinstance(m.suite.get("name", ""), str):
        out.append(Problem("manifest.json: suite.name must be a string"))
    if not isinstance(m.protocol, str):
        out.append(Problem("manifest.json: protocol must be a string"))
    for name, spec in m.metrics.items():
        if not isinstance(spec, dict):
            out.append(Problem(f"manifest.json: metrics[{name!r}] must be an object"))
            continue
        try:
            MetricSpec.from_dict({**spec, "name": name})
        except (ValueError, TypeError) as e:
            out.append(Problem(f"manifest.json: metrics[{name!r}]: {e}"))
    if m.status not in RUN_STATUSES:
        out.append(Problem(f"manifest.json: unknown status {m.status!r}"))
    elif require_finished and m.status != "finished":
        out.append(Problem(f"partial run: status {m.status!r} (finished_at {m.finished_at or 'never'}); "
                           f"continue it with `lpmbench evaluate ... run.id={m.run_id} --resume`"))
    if not run.cases:
        out.append(Problem("no case records (cases.jsonl missing or empty)"))
    selected = m.suite.get("selected") or []
    missing = [c for c in selected if c not in run.cases] if isinstance(selected, list) else []
    if missing and require_finished:
        out.append(Problem(f"incomplete: {len(missing)} selected case(s) without a record, e.g. {missing[0]!r}"))
    out += [Problem(p, fatal=False) for p in run.problems]
    stray = sorted({k for r in run.cases.values() for k in r.values} - set(m.metrics))
    if stray:
        out.append(Problem(f"values for metrics not declared in the manifest are ignored: {stray}", fatal=False))
    if check_files:
        for rec in run.cases.values():
            if rec.status == "ok" and rec.video and run.video_path(rec.case_id) is None:
                out.append(Problem(f"case {rec.case_id}: video {rec.video} missing", fatal=False))
    return out


# -- writing --------------------------------------------------------------------------------------
def _json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    return str(o)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder (never half a file, no
    temporary file left behind). A full disk or a read-only folder is a :class:`ResultsError`."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException as e:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only folder: there is no temporary file either
        if isinstance(e, OSError):
            raise ResultsError(f"cannot write {path}: {e.strerror or e}") from None
        raise


class RunStore:
    """The only writer of a run folder. Hold it with ``with RunStore(dir) as store:``.

    Opening takes an exclusive lock on the folder (a second writer gets :class:`RunLocked`,
    naming the holder), removes temporary files a killed writer left behind and repairs a torn
    last line of ``cases.jsonl``, so every record appended afterwards is a whole line.
    """

    def __init__(self, run_dir: str | Path):
        self.layout = RunLayout(Path(run_dir))
        self._lock_fd: int | None = None

    @property
    def dir(self) -> Path:
        return self.layout.dir

    # -- life cycle -----------------------------------------------------------------------------
    def open(self) -> "RunStore":
        try:
            return self._open()
        except OSError as e:  # a read-only or full results folder
            self.close()
            raise ResultsError(f"cannot write run folder {self.dir}: {e.strerror or e}") from None

    def _open(self) -> "RunStore":
        lay = self.layout
        lay.series_dir.mkdir(parents=True, exist_ok=True)
        lay.videos_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(lay.lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunLocked(f"run folder {lay.dir} is being written by {holder}; wait for it or choose another run.id") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {utcnow()}\n".encode(), 0)
        self._lock_fd = fd
        for d in (lay.dir, lay.series_dir, lay.videos_dir):
            for tmp in d.glob("*.tmp"):
                tmp.unlink(missing_ok=True)  # left by a writer that was killed mid-write
        self._repair_tail()
        return self

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def __enter__(self) -> "RunStore":
        return self.open() if self._lock_fd is None else self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def _repair_tail(self) -> None:
        """Cut a torn last line (a writer killed mid-append) so the next record starts a line."""
        path = self.layout.cases
        if not path.is_file() or path.stat().st_size == 0:
            return
        with open(path, "rb+") as f:
            end = f.seek(0, os.SEEK_END)
            f.seek(end - 1)
            if f.read(1) == b"\n":
                return
            pos = end
            while pos > 0:  # scan back for the last complete line
                step = min(pos, 1 << 16)
                f.seek(pos - step)
                cut = f.read(step).rfind(b"\n")
                if cut >= 0:
                    pos = pos - step + cut + 1
                    break
                pos -= step
            f.truncate(pos)
            f.flush()
            os.fsync(f.fileno())

    def _check_open(self) -> None:
        if self._lock_fd is None:
            raise ResultsError(f"run folder {self.dir} is not open for writing (use `with RunStore(dir) as store`)")

    # -- writes ---------------------------------------------------------------------------------
    def write_manifest(self, manifest: RunManifest) -> None:
        self._check_open()
        atomic_write(self.layout.manifest, json.dumps(asdict(manifest), indent=2, default=str).encode())

    def write_config(self, text: str) -> None:
        self._check_open()
        atomic_write(self.layout.config, text.encode())

    def append(self, record: CaseRecord) -> None:
        """Append one record as a whole line, fsynced. A write that fails part way (a full disk) is
        cut back off, so the file never holds half a record, and raised as :class:`ResultsError`."""
        self._check_open()
        line = (json.dumps(asdict(record), default=_json_default) + "\n").encode()
        path = self.layout.cases
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            raise ResultsError(f"cannot append to {path}: {e.strerror or e}") from None
        try:
            start = os.fstat(fd).st_size
            left = memoryview(line)
            while left:  # a short write is not an error: write the rest, or fail on it
                left = left[os.write(fd, left):]
            os.fsync(fd)
        except OSError as e:
            try:
                os.ftruncate(fd, start)
            except OSError:
                pass  # _repair_tail cuts it when the run is opened again
            raise ResultsError(f"cannot append to {path}: {e.strerror or e}") from None
        finally:
            os.close(fd)

    def write_series(self, case_id: str, series: dict[str, dict[str, Any]]) -> str | None:
        self._check_open()
        if not series:
            return None
        arrays: dict[str, np.ndarray] = {}
        for name, s in series.items():
            for key in ("t", "y", "y2"):
                if key in s and s[key] is not None:
                    arrays[f"{name}.{key}"] = np.asarray(s[key], dtype=np.float32)
        path = self.layout.series(case_id)
        import io

        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        atomic_write(path, buf.getvalue())
        return self.layout.rel(path)

    def video_path(self, case_id: str) -> Path:
        """Where the generator writes a case's video (a stale one from an interrupted attempt is
        removed first, so it is never scored)."""
        self._check_open()
        p = self.layout.video(case_id)
        p.unlink(missing_ok=True)
        return p

    def write_video(self, case_id: str, data: bytes) -> Path:
        """Store a video produced elsewhere (another node's generator) as the case's video."""
        self._check_open()
        path = self.layout.video(case_id)
        atomic_write(path, data)
        return path

    def drop_video(self, case_id: str) -> None:
        self._check_open()
        self.layout.video(case_id).unlink(missing_ok=True)


def RunWriter(run_dir: str | Path) -> RunStore:  # TODO(renovation): remove once every caller says RunStore
    return RunStore(run_dir).open()
