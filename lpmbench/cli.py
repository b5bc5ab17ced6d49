"""The ``lpmbench`` command line. Thin: it parses arguments, composes the Hydra configuration and
calls the library (lpmbench.runner, lpmbench.results, ...), which tests and notebooks use directly.

    lpmbench evaluate model=puppet suite=mini [run.timeout_s=120 ...] [--resume] [--include f.py]
    lpmbench score VIDEO --reference IMG [--audio WAV] [--partner-audio WAV] [--prompt nod@2-4] [--json OUT]
    lpmbench rescore RUN_DIR [--reanalyze] [--include f.py]
    lpmbench list suites|models|metrics
    lpmbench validate RUN_DIR
    lpmbench weights [list] | lpmbench weights fetch NAME
    lpmbench leaderboard [--results DIR] [--port N]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lpmbench", description="Evaluate interactive character performance video generators.")
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("evaluate", help="run a suite through a generator, score it and write a run folder",
                       description="Hydra overrides as key=value, e.g. model=puppet suite=mini run.cases=[speak_*]")
    e.add_argument("overrides", nargs="*", help="Hydra overrides (model=..., suite=..., run.*, analysis.*, metrics=...)")
    e.add_argument("--resume", action="store_true", help="continue the run folder given by run.id, skipping finished cases")
    e.add_argument("--include", action="append", default=[], metavar="FILE.py", help="import a plugin file (metrics/adapters)")
    e.add_argument("--cfg", action="store_true", help="print the resolved configuration and exit")

    s = sub.add_parser("score", help="score one video without a suite")
    s.add_argument("video", type=Path)
    s.add_argument("--reference", type=Path, action="append", required=True, help="reference image (repeatable)")
    s.add_argument("--audio", type=Path, help="agent audio: what the character says")
    s.add_argument("--partner-audio", type=Path, help="partner audio: what the character hears")
    s.add_argument("--prompt", action="append", default=[], metavar="ACTION@START-END",
                   help="a prompted action and its span in seconds, e.g. nod@2-4 (repeatable)")
    s.add_argument("--style", default="photoreal", choices=["photoreal", "stylized", "non_humanoid"])
    s.add_argument("--json", type=Path, help="write {metrics, unavailable, series, ...} to this file")
    s.add_argument("--include", action="append", default=[], metavar="FILE.py")
    s.add_argument("--metrics", default="default", help="metric selection: a file of conf/metrics (default, all)")
    s.add_argument("--analysis", action="append", default=[], metavar="KEY=VALUE", help="analysis option, e.g. identity_backend=arcface")
    s.add_argument("--cache-dir", default=".lpmbench_cache")

    r = sub.add_parser("rescore", help="recompute metrics of a run from its cached features (no decoding)")
    r.add_argument("run_dir", type=Path)
    r.add_argument("--reanalyze", action="store_true", help="analyse stored videos again where features are not cached")
    r.add_argument("--include", action="append", default=[], metavar="FILE.py")
    r.add_argument("--metrics", default="default")

    ls = sub.add_parser("list", help="list suites, models or metrics")
    ls.add_argument("what", choices=["suites", "models", "metrics"])
    ls.add_argument("--include", action="append", default=[], metavar="FILE.py")

    v = sub.add_parser("validate", help="check a run folder against the results schema")
    v.add_argument("run_dir", type=Path)

    w = sub.add_parser("weights", help="list weight files of the model-backed metrics, or fetch one")
    w.add_argument("action", nargs="?", default="list", choices=["list", "fetch"])
    w.add_argument("name", nargs="?")
    w.add_argument("--dir", type=Path, help="weights folder (default: $LPMBENCH_WEIGHTS_DIR or ~/.cache/lpmbench/weights)")

    lb = sub.add_parser("leaderboard", help="open the Streamlit leaderboard over a results folder")
    lb.add_argument("--results", type=Path, default=None, help="results folder (default: $LPMBENCH_RESULTS or ./results)")
    lb.add_argument("--port", type=int)
    return p


def _table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) if rows else len(c) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols), "  ".join("-" * widths[c] for c in cols)]
    lines += ["  ".join(str(r.get(c, "")).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _metric_set(selection: str, include: list[str]):
    import yaml

    from .config import CONF_DIR
    from .plugins import load_metrics

    path = CONF_DIR / "metrics" / f"{selection}.yaml"
    if not path.is_file():
        raise SystemExit(f"unknown metric selection {selection!r}; known: {', '.join(p.stem for p in (CONF_DIR / 'metrics').glob('*.yaml'))}")
    m = yaml.safe_load(path.read_text()) or {}
    return load_metrics(include=include, select=m.get("select", ["*"]), exclude=m.get("exclude", []))


def parse_prompt(text: str):
    """``nod@2-4`` or ``"a warm smile"@1.5-3`` -> PromptEvent."""
    from .case import ACTIONS, PromptEvent

    label, at, span = text.rpartition("@")
    start, dash, end = span.partition("-")
    if not at or not dash:
        raise SystemExit(f"--prompt {text!r}: expected ACTION@START-END, e.g. nod@2-4")
    try:
        s, e = float(start), float(end)
    except ValueError:
        raise SystemExit(f"--prompt {text!r}: START and END must be seconds") from None
    if not s < e:
        raise SystemExit(f"--prompt {text!r}: START must be before END")
    if label in ACTIONS:
        return PromptEvent(s, e, action=label)
    return PromptEvent(s, e, text=label.strip("'\""))


def cmd_evaluate(a: argparse.Namespace) -> int:
    from omegaconf import OmegaConf

    from .config import build, compose
    from .runner import evaluate

    cfg = compose(a.overrides)
    if a.cfg:
        print(OmegaConf.to_yaml(cfg))
        return 0
    suite, spec, metrics, analyzer, ecfg = build(cfg, include=a.include, resume=True if a.resume else None)
    print(f"suite {suite.name} ({len(suite.cases)} cases, hash {suite.content_hash[:12]}), model {ecfg.model_name} "
          f"[{spec.adapter}], {len(metrics.specs)} metrics", file=sys.stderr)
    run_dir = evaluate(spec, suite, metrics, analyzer, ecfg)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    from .results import load_run

    run = load_run(run_dir)
    n_ok = sum(r.status == "ok" for r in run.cases.values())
    errors = [r for r in run.cases.values() if r.status == "error"]
    print(f"\nrun written to {run_dir}: {n_ok} ok, {len(errors)} failed, "
          f"{sum(r.status == 'skipped' for r in run.cases.values())} skipped")
    for r in errors:
        print(f"  {r.case_id}: [{r.error.get('stage')}] {r.error.get('message')}" if r.error else f"  {r.case_id}")
    return 0


def cmd_score(a: argparse.Namespace) -> int:
    from .config import make_analyzer
    from .runner import score_video

    options: dict[str, Any] = {}
    for kv in a.analysis:
        k, eq, v = kv.partition("=")
        if not eq:
            raise SystemExit(f"--analysis {kv!r}: expected KEY=VALUE")
        import yaml

        options[k] = yaml.safe_load(v)
    metrics = _metric_set(a.metrics, a.include)
    analyzer = make_analyzer({"cache_dir": a.cache_dir, "options": options})
    prompts = [parse_prompt(p) for p in a.prompt]
    out, _ = score_video(a.video, a.reference, metrics, analyzer, audio=a.audio, partner_audio=a.partner_audio,
                         prompts=prompts, style=a.style)
    specs = metrics.specs
    rows = []
    for name in sorted(specs):
        s = specs[name]
        arrow = {"higher": "↑", "lower": "↓"}.get(s.direction, f"→{s.target}")
        rows.append({"metric": name, "dir": arrow, "value": _fmt(out.values[name]) if name in out.values else "n/a",
                     "note": out.unavailable.get(name, "")[:90]})
    print(_table(rows, ["metric", "dir", "value", "note"]))
    if a.json:
        doc = {
            "video": str(a.video), "reference": [str(r) for r in a.reference],
            "metrics": out.values, "unavailable": out.unavailable,
            "specs": {n: s.to_dict() for n, s in specs.items()},
            "series": {k: {kk: (vv.tolist() if hasattr(vv, "tolist") else vv) for kk, vv in v.items()} for k, v in out.series.items()},
            "details": out.details, "analysis": analyzer.describe(),
        }
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(doc, indent=2, default=str))
        print(f"\nwrote {a.json}")
    return 0


def cmd_rescore(a: argparse.Namespace) -> int:
    from .case import load_suite
    from .config import make_analyzer
    from .results import load_run
    from .runner import rescore

    run = load_run(a.run_dir)
    analysis = (run.manifest.config or {}).get("analysis") or {"cache_dir": ".lpmbench_cache", "options": {}}
    suite = load_suite(run.manifest.suite.get("path") or run.manifest.suite["name"])
    if suite.content_hash != run.manifest.suite.get("hash"):
        print(f"warning: suite {suite.name} changed since the run (hash differs); rescoring with the current case definitions",
              file=sys.stderr)
    n = rescore(a.run_dir, _metric_set(a.metrics, a.include), make_analyzer(analysis), suite, reanalyze=a.reanalyze)
    print(f"rescored {n} case(s) of {run.run_id}")
    return 0


def cmd_list(a: argparse.Namespace) -> int:
    if a.what == "suites":
        from .case import list_suites, load_suite

        rows = []
        for name, path in list_suites().items():
            try:
                s = load_suite(path, check_audio=False)
                rows.append({"suite": name, "cases": len(s.cases), "minutes": f"{sum(c.duration for c in s.cases) / 60:.1f}",
                             "modes": ",".join(sorted({c.mode for c in s.cases})), "description": s.description[:60]})
            except Exception as e:
                rows.append({"suite": name, "description": f"INVALID: {e}"})
        print(_table(rows, ["suite", "cases", "minutes", "modes", "description"]))
    elif a.what == "models":
        import yaml

        from .config import CONF_DIR
        from .registry import ADAPTERS

        rows = []
        for p in sorted((CONF_DIR / "model").glob("*.yaml")):
            d = yaml.safe_load(p.read_text()) or {}
            rows.append({"model": p.stem, "adapter": d.get("adapter", ""), "modes": ",".join((d.get("params") or {}).get("modes") or []) or "all"})
        print(_table(rows, ["model", "adapter", "modes"]))
        print("\nadapters: " + ", ".join(f"{n} ({ADAPTERS.origin(n)})" for n in ADAPTERS.names()))
    else:
        from .docs import direction_label
        from .plugins import load_metrics

        ms = load_metrics(include=a.include)
        rows = []
        for name, s in sorted(ms.specs.items()):
            d = direction_label(s)
            rows.append({"metric": name, "dimension": s.dimension, "direction": d, "version": s.version,
                         "backend": s.backend, "source": ms.origins[name].split(" ")[0]})
        print(_table(rows, ["metric", "dimension", "direction", "version", "backend", "source"]))
    return 0


def cmd_validate(a: argparse.Namespace) -> int:
    from .results import ResultsError, load_run

    try:
        run = load_run(a.run_dir)
    except ResultsError as e:
        print(f"INVALID: {e}")
        return 1
    problems = list(run.problems)
    known = set(run.manifest.metrics)
    for rec in run.cases.values():
        stray = set(rec.values) - known
        if stray:
            problems.append(f"case {rec.case_id}: values for metrics not in the manifest: {sorted(stray)}")
        if rec.status == "ok" and rec.video and run.video_path(rec.case_id) is None:
            problems.append(f"case {rec.case_id}: video {rec.video} missing")
    selected = run.manifest.suite.get("selected") or []
    missing = [c for c in selected if c not in run.cases]
    status = run.manifest.status
    print(f"{run.run_id}: {len(run.cases)} case record(s), status {status}, protocol {run.manifest.protocol}")
    if missing:
        print(f"  incomplete: {len(missing)} selected case(s) without a record (resume with --resume)")
    for p in problems:
        print(f"  problem: {p}")
    return 1 if problems else 0


def cmd_weights(a: argparse.Namespace) -> int:
    from . import weights

    if a.action == "fetch":
        if not a.name:
            raise SystemExit("lpmbench weights fetch NAME: which weights? see `lpmbench weights`")
        try:
            path = weights.fetch(a.name, a.dir)
        except weights.WeightsError as e:
            print(f"lpmbench weights fetch: {e}", file=sys.stderr)
            return 1
        print(f"fetched {a.name} -> {path}")
        return 0
    print(weights.format_table(weights.status_table(a.dir)))
    return 0


def cmd_leaderboard(a: argparse.Namespace) -> int:
    from .leaderboard import launch

    return launch(a.results, port=a.port) or 0


COMMANDS = {"evaluate": cmd_evaluate, "score": cmd_score, "rescore": cmd_rescore, "list": cmd_list,
            "validate": cmd_validate, "weights": cmd_weights, "leaderboard": cmd_leaderboard}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .case import SuiteError
    from .registry import RegistryError

    try:
        return COMMANDS[args.command](args) or 0
    except (SuiteError, RegistryError, FileExistsError, ValueError) as e:
        print(f"lpmbench {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:
        # configuration mistakes (unknown key or option, missing value) are user errors, not crashes
        if type(e).__module__.split(".")[0] in ("hydra", "omegaconf"):
            print(f"lpmbench {args.command}: configuration error: {e}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        print("interrupted: finished cases are saved; continue with --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
