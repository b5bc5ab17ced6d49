"""Registry of the model weight files behind the weight-backed feature extractors.

lpmbench never downloads weights behind the user's back and never ships them: each file is looked
for on local disk, in this order:

1. an explicit path argument (``weights_dir=`` of :func:`locate`, or the analysis config);
2. a per-file environment variable, e.g. ``LPMBENCH_WEIGHTS_SYNCNET_V2=/data/syncnet_v2.model``;
3. the weights folder: ``$LPMBENCH_WEIGHTS_DIR`` if set, else ``~/.cache/lpmbench/weights``
   (each entry in its own sub-folder, or directly in the folder);
4. the entry's extra folders (e.g. insightface's own cache ``~/.insightface/models/buffalo_l``).

A missing file raises :class:`WeightsMissing`, whose message names the file, every folder searched,
the official source and the command ``lpmbench weights fetch NAME``. :func:`fetch` downloads from
the official source into the weights folder when a network is available.

Checksums: where the official sha256 is known it is checked (``verify``); where only a prefix is
published (torch-hub style file names such as ``...-6726825d.pth``) the prefix is checked; where
nothing is published the status is ``"unverified"`` and the sha256 of the file actually used is
recorded in every result, so numbers from different files are never ranked together.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DIR = Path("~/.cache/lpmbench/weights")
ENV_DIR = "LPMBENCH_WEIGHTS_DIR"


class WeightsError(RuntimeError):
    """Base class of weight-file errors; the message is shown to users as the 'unavailable' reason."""


class WeightsMissing(WeightsError, FileNotFoundError):
    """A weight file is not on disk."""


class WeightsCorrupt(WeightsError):
    """A weight file is present but its checksum differs from the official one, or it cannot be loaded."""


class WeightsFetchError(WeightsError):
    """Downloading a weight file failed (no network, HTTP error, checksum mismatch)."""


@dataclass(frozen=True)
class WeightSpec:
    """One weight file: what it is, where it officially comes from and how it is found locally."""

    name: str  # registry key, also the `lpmbench weights fetch NAME` argument
    backend: str  # feature backend using it (recorded in results)
    filename: str  # the file looked for
    url: str  # official source (a direct file, or an archive holding ``archive_member``)
    license: str
    description: str = ""
    alt_filenames: tuple[str, ...] = ()  # other accepted names (e.g. a .safetensors variant)
    subdir: str = ""  # sub-folder of the weights folder (also searched: the folder itself)
    archive_member: str | None = None  # path inside a zip at ``url`` (e.g. buffalo_l.zip)
    mirrors: tuple[str, ...] = ()  # other official locations, tried in order after ``url``
    sha256: str | None = None  # official sha256; None = not published / not known here ("unverified")
    sha256_prefix: str | None = None  # published hash prefix (torch-hub file names)
    size: int | None = None  # bytes, where known
    extra_dirs: tuple[str, ...] = ()  # further folders to search (other tools' caches)
    options: dict[str, Any] = field(default_factory=dict)  # backend options (e.g. open_clip model name)

    @property
    def env_var(self) -> str:
        """Per-file override: the full path of the file."""
        return "LPMBENCH_WEIGHTS_" + self.name.upper().replace("-", "_")

    @property
    def filenames(self) -> tuple[str, ...]:
        return (self.filename, *self.alt_filenames)


WEIGHTS: dict[str, WeightSpec] = {
    spec.name: spec
    for spec in (
        WeightSpec(
            name="syncnet_v2",
            backend="syncnet_v2",
            filename="syncnet_v2.model",
            url="http://www.robots.ox.ac.uk/~vgg/software/lipsync/data/syncnet_v2.model",
            license="MIT (joonson/syncnet_python); VGG Oxford release, research use",
            description="SyncNet audio-visual sync model (Chung & Zisserman 2016), state dict of "
            "syncnet_python's SyncNetModel.S; lipsync.lse_c / lse_d / syncnet_offset",
            subdir="syncnet",
        ),
        WeightSpec(
            name="arcface",
            backend="arcface",
            filename="w600k_r50.onnx",
            # insightface >= 2 downloads from the "model-zoo" release; 0.7 from the "v0.7" release
            url="https://github.com/deepinsight/insightface/releases/download/model-zoo/buffalo_l.zip",
            mirrors=("https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip",),
            license="insightface model zoo: non-commercial research use only",
            description="ArcFace ResNet-50 (WebFace600K) recognition model of insightface's buffalo_l "
            "pack; 112x112 aligned face -> 512-d identity embedding",
            subdir="buffalo_l",
            archive_member="w600k_r50.onnx",
            extra_dirs=("~/.insightface/models/buffalo_l",),
        ),
        WeightSpec(
            name="open_clip",
            backend="open_clip",
            filename="open_clip_pytorch_model.bin",
            alt_filenames=("open_clip_model.safetensors",),
            url="https://huggingface.co/laion/CLIP-ViT-B-32-laion2B-s34B-b79K/resolve/main/open_clip_pytorch_model.bin",
            license="MIT (LAION / open_clip)",
            description="open_clip ViT-B-32 trained on LAION-2B (laion2b_s34b_b79k); character-region "
            "identity embedding for stylized characters and text_control.clip_score",
            subdir="open_clip",
            options={"model": "ViT-B-32"},
        ),
        WeightSpec(
            name="fid_inception",
            backend="fid_inception",
            filename="weights-inception-2015-12-05-6726825d.pth",
            url="https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
            license="Apache-2.0 (TensorFlow Inception v3 2015-12-05, converted by torch-fidelity)",
            description="Inception v3 pool3 features of FID (torch-fidelity / torchmetrics); quality.fid_drift",
            subdir="fid",
            sha256_prefix="6726825d",  # torch hub names files <name>-<first 8 hex of sha256>.<ext>
        ),
    )
}


# -- where files are looked for ---------------------------------------------------------------

def weights_dir(weights_dir: str | Path | None = None) -> Path:
    """The weights folder: the argument, else ``$LPMBENCH_WEIGHTS_DIR``, else ``~/.cache/lpmbench/weights``."""
    d = weights_dir or os.environ.get(ENV_DIR) or DEFAULT_DIR
    return Path(d).expanduser()


def get_spec(name: str) -> WeightSpec:
    if name not in WEIGHTS:
        import difflib

        close = difflib.get_close_matches(name, list(WEIGHTS), n=2)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise KeyError(f"unknown weights {name!r}.{hint} Known: {', '.join(sorted(WEIGHTS))}")
    return WEIGHTS[name]


def search_dirs(name: str, weights_dir_: str | Path | None = None) -> list[Path]:
    """Folders searched for entry ``name``, in order (see the module docstring)."""
    spec = get_spec(name)
    root = weights_dir(weights_dir_)
    dirs = [root / spec.subdir] if spec.subdir else []
    dirs.append(root)
    dirs += [Path(d).expanduser() for d in spec.extra_dirs]
    return dirs


def candidates(name: str, weights_dir_: str | Path | None = None) -> list[Path]:
    """Every path that would be accepted for ``name``, in search order."""
    spec = get_spec(name)
    out: list[Path] = []
    env = os.environ.get(spec.env_var)
    if env:
        p = Path(env).expanduser()
        # the variable may name the file or a folder holding it (e.g. an insightface model folder)
        out += [p / f for f in spec.filenames] if p.is_dir() else [p]
    for d in search_dirs(name, weights_dir_):
        out += [d / f for f in spec.filenames]
    return out


def locate(name: str, weights_dir: str | Path | None = None) -> Path:
    """The local file of entry ``name``; raises :class:`WeightsMissing` with how to get it."""
    spec = get_spec(name)
    for p in candidates(name, weights_dir):
        if p.is_file():
            return p
    raise WeightsMissing(missing_message(spec, weights_dir))


def missing_message(spec: WeightSpec, weights_dir_: str | Path | None = None) -> str:
    searched = ", ".join(str(d) for d in search_dirs(spec.name, weights_dir_))
    env = os.environ.get(spec.env_var)
    env_note = f" ({spec.env_var}={env} does not exist)" if env else ""
    names = " or ".join(spec.filenames)
    return (
        f"weights {spec.name!r} not found: file {names} is not in {searched}{env_note}. "
        f"Source: {spec.url}. Get it with `lpmbench weights fetch {spec.name}` (needs network), or "
        f"download it yourself into {search_dirs(spec.name, weights_dir_)[0]} "
        f"(or set {ENV_DIR} to the folder holding it, or {spec.env_var} to the file)."
    )


# -- checksums --------------------------------------------------------------------------------

_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | Path) -> str:
    """sha256 of a file, cached by (path, size, mtime): big checkpoints are hashed once per process."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _SHA_CACHE[key] = h.hexdigest()
    return _SHA_CACHE[key]


def check_sha(spec: WeightSpec, digest: str) -> str:
    """``"ok"``, ``"mismatch"`` or ``"unverified"`` for a file's sha256 against the entry."""
    if spec.sha256:
        return "ok" if digest == spec.sha256.lower() else "mismatch"
    if spec.sha256_prefix:
        return "ok" if digest.startswith(spec.sha256_prefix.lower()) else "mismatch"
    return "unverified"


def verify(name: str, weights_dir: str | Path | None = None) -> str:
    """``"missing"``, ``"ok"``, ``"mismatch"`` or ``"unverified"`` (no official checksum known)."""
    spec = get_spec(name)
    try:
        path = locate(name, weights_dir)
    except WeightsMissing:
        return "missing"
    return check_sha(spec, sha256_file(path))


def require(name: str, weights_dir: str | Path | None = None) -> tuple[Path, str]:
    """The file of ``name`` and its sha256, refusing a checksum mismatch (:class:`WeightsCorrupt`)."""
    spec = get_spec(name)
    path = locate(name, weights_dir)
    digest = sha256_file(path)
    if check_sha(spec, digest) == "mismatch":
        expected = spec.sha256 or f"{spec.sha256_prefix}..."
        raise WeightsCorrupt(
            f"weights {name!r}: file {path} has sha256 {digest}, expected {expected} (corrupt or a different "
            f"file). Delete it and run `lpmbench weights fetch {name}` (source: {spec.url})."
        )
    return path, digest


def status_table(weights_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """One row per entry: name, backend, path (or None), present, sha256 status, source, licence."""
    rows = []
    for name, spec in WEIGHTS.items():
        try:
            path: Path | None = locate(name, weights_dir)
        except WeightsMissing:
            path = None
        rows.append({
            "name": name,
            "backend": spec.backend,
            "file": spec.filename,
            "path": str(path) if path else None,
            "present": path is not None,
            "sha256": check_sha(spec, sha256_file(path)) if path else "missing",
            "source": spec.url,
            "license": spec.license,
        })
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of :func:`status_table` rows for the terminal."""
    cols = ("name", "backend", "present", "sha256", "path", "source")
    cells = [[str(r.get(c) if r.get(c) is not None else "-") for c in cols] for r in rows]
    cells = [[c if c != "True" else "yes" for c in row] for row in cells]
    cells = [[c if c != "False" else "no" for c in row] for row in cells]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    missing = [r["name"] for r in rows if not r["present"]]
    if missing:
        lines.append("")
        lines.append("missing: " + ", ".join(missing) + " -> `lpmbench weights fetch NAME` "
                     f"(folder: {weights_dir()}; set {ENV_DIR} to change it)")
    return "\n".join(lines)


# -- download ---------------------------------------------------------------------------------

def fetch(name: str, weights_dir: str | Path | None = None, *, url: str | None = None, force: bool = False,
          timeout: float = 30.0, progress: bool = True) -> Path:
    """Download entry ``name`` from its official source (or ``url``) into the weights folder.

    The file is written to a temporary name, checked (sha256 / prefix where known; the named member
    is extracted when the source is a zip) and moved into place atomically. Returns the path.
    Raises :class:`WeightsFetchError` with what to do when there is no network.
    """
    spec = get_spec(name)
    target_dir = search_dirs(name, weights_dir)[0]
    target = target_dir / spec.filename
    if target.is_file() and not force:
        return target
    sources = [url] if url else [spec.url, *spec.mirrors]
    target_dir.mkdir(parents=True, exist_ok=True)
    errors = []
    for src in sources:
        try:
            return _fetch_one(spec, src, target_dir, target, timeout=timeout, progress=progress)
        except WeightsFetchError as e:
            errors.append(str(e))
    raise WeightsFetchError(" / ".join(errors))


def _fetch_one(spec: WeightSpec, src: str, target_dir: Path, target: Path, *, timeout: float, progress: bool) -> Path:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=target_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _download(src, tmp, timeout=timeout, progress=progress, label=spec.name)
        if spec.archive_member and zipfile.is_zipfile(tmp):
            tmp = _extract_member(tmp, spec.archive_member, target_dir)
        digest = sha256_file(tmp)
        if check_sha(spec, digest) == "mismatch":
            raise WeightsFetchError(
                f"weights {spec.name!r}: the file downloaded from {src} has sha256 {digest}, expected "
                f"{spec.sha256 or str(spec.sha256_prefix) + '...'}; not installed."
            )
        tmp.replace(target)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise WeightsFetchError(
            f"could not download weights {spec.name!r} ({spec.filename}) from {src}: {e}. Without network access, "
            f"download it on another machine and copy it to {target} (or set {ENV_DIR} / {spec.env_var})."
        ) from None
    finally:
        for p in {Path(tmp_name), tmp}:
            if p.exists() and p != target:
                p.unlink()
    return target


def _download(url: str, dest: Path, *, timeout: float, progress: bool, label: str) -> None:
    req = urllib.request.Request(url, headers={"User-Agent": "lpmbench"})
    with urllib.request.urlopen(req, timeout=timeout) as r, open(dest, "wb") as f:
        total = int(r.headers.get("Content-Length") or 0) or None
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="B", unit_scale=True, desc=f"fetch {label}", leave=False)
        try:
            for chunk in iter(lambda: r.read(1 << 20), b""):
                f.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    if total is not None and dest.stat().st_size != total:
        raise OSError(f"incomplete download: {dest.stat().st_size} of {total} bytes")


def _extract_member(archive: Path, member: str, target_dir: Path) -> Path:
    """Extract the file named ``member`` (at any depth) from a zip into a temporary file."""
    with zipfile.ZipFile(archive) as z:
        names = [n for n in z.namelist() if n == member or n.endswith("/" + member)]
        if not names:
            raise ValueError(f"{member} not found in the downloaded archive ({len(z.namelist())} entries)")
        fd, out_name = tempfile.mkstemp(prefix=f".{member}.", suffix=".part", dir=target_dir)
        with os.fdopen(fd, "wb") as out, z.open(names[0]) as src:
            shutil.copyfileobj(src, out)
    archive.unlink()
    return Path(out_name)
