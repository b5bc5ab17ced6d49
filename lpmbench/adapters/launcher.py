"""The offline launcher of the command presets whose tool reads its inputs from a config file or
picks its own output path (``lpmbench/conf/model/*.yaml``): write the per-case config, run the
tool, collect its output. Runs with the harness's Python (stdlib + PyYAML); the tool runs with its
own. It times nothing: the worker's timeout kills the launcher and the tool with it.

::

    python -m lpmbench.adapters.launcher \\
        [--template configs/inference/test.yaml] [--config-out CASE.yaml] \\
        [--set task_0.video_path=/ref.png ...] [--replace-map test_cases /ref.png /audio.wav] \\
        [--remove results/realtime/v15/avatars/lpmbench] \\
        [--collect 'results/**/*.mp4' --to OUT.mp4] -- TOOL ARGS...

``--set`` assigns a dotted key (the value parsed as a YAML scalar); ``--replace-map KEY K V...``
sets ``KEY`` to ``{K: [V...]}`` (EchoMimic's ``test_cases``). ``--collect`` moves the newest
file matching the glob (relative to the working directory, ``**`` allowed) that the tool
wrote or changed to ``--to``; none found is an error naming the glob. The tool's exit code is kept.
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def set_dotted(cfg: dict[str, Any], dotted: str, value: Any) -> None:
    """``cfg[a][b] = value`` for ``dotted = "a.b"``, creating mappings on the way."""
    keys = dotted.split(".")
    node = cfg
    for k in keys[:-1]:
        if not isinstance(node.get(k), dict):
            node[k] = {}
        node = node[k]
    node[keys[-1]] = value


def build_config(template: Path | None, sets: list[str], maps: list[list[str]]) -> dict[str, Any]:
    import yaml

    cfg: dict[str, Any] = {}
    if template is not None:
        cfg = yaml.safe_load(template.read_text()) or {}
        if not isinstance(cfg, dict):
            raise SystemExit(f"launch: template {template} is not a YAML mapping")
    for s in sets:
        key, eq, raw = s.partition("=")
        if not eq or not key:
            raise SystemExit(f"launch: --set expects KEY=VALUE, got {s!r}")
        set_dotted(cfg, key, yaml.safe_load(raw) if raw.strip() else "")
    for m in maps:
        if len(m) < 3:
            raise SystemExit(f"launch: --replace-map expects KEY MAPKEY VALUE..., got {m!r}")
        set_dotted(cfg, m[0], {m[1]: list(m[2:])})
    return cfg


def snapshot(pattern: str) -> dict[str, int]:
    """Files matching ``pattern`` now, with their mtimes: what the tool did not write."""
    return {p: os.stat(p).st_mtime_ns for p in glob.glob(pattern, recursive=True) if os.path.isfile(p)}


def collect(pattern: str, before: dict[str, int], to: Path) -> Path:
    """Move the newest file matching ``pattern`` that is new or changed since ``before`` to ``to``."""
    hits = snapshot(pattern)
    fresh = [p for p, m in hits.items() if before.get(p) != m]
    if not fresh:
        stale = f" ({len(hits)} older file(s) ignored)" if hits else ""
        raise SystemExit(f"launch: the tool wrote no file matching {pattern!r} in {os.getcwd()}{stale}")
    best = Path(max(fresh, key=lambda p: hits[p]))
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(best), to)
    return best


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        raise SystemExit("launch: put the tool's command after '--'")
    i = argv.index("--")
    ours, tool = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(prog="python -m lpmbench.adapters.launcher")
    ap.add_argument("--template", type=Path)
    ap.add_argument("--config-out", type=Path)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--replace-map", nargs="+", action="append", default=[])
    ap.add_argument("--remove", action="append", default=[], help="delete this path first (stale tool state)")
    ap.add_argument("--collect")
    ap.add_argument("--to", type=Path)
    a = ap.parse_args(ours)
    if not tool:
        raise SystemExit("launch: no tool command after '--'")
    if (a.collect is None) != (a.to is None):
        raise SystemExit("launch: --collect and --to go together")
    if a.config_out is not None:
        import yaml

        a.config_out.parent.mkdir(parents=True, exist_ok=True)
        a.config_out.write_text(yaml.safe_dump(build_config(a.template, a.set, a.replace_map), sort_keys=False))
    elif a.set or a.replace_map or a.template:
        raise SystemExit("launch: --template/--set/--replace-map need --config-out")
    for r in a.remove:
        p = Path(r)
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    before = snapshot(a.collect) if a.collect else {}
    rc = subprocess.call(tool, stdin=subprocess.DEVNULL)
    if rc != 0:
        return rc
    if a.collect:
        collect(a.collect, before, a.to)
    return 0


if __name__ == "__main__":
    sys.exit(main())
