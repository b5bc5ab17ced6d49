"""The ``lpmbench`` command line. Thin: it parses arguments, composes the Hydra configuration and
calls the library (lpmbench.runner, lpmbench.results, ...), which tests and notebooks use directly.

    lpmbench evaluate model=puppet suite=mini [run.timeout_s=120 ...] [--resume] [--include f.py]
    lpmbench score VIDEO --reference IMG [--audio WAV] [--partner-audio WAV] [--prompt nod@2-4] [--json OUT] [key=value ...]
    lpmbench rescore RUN_DIR [--reanalyze] [--include f.py] [key=value ...]
    lpmbench list suites|models|metrics
    lpmbench validate RUN_DIR
    lpmbench merge SHARD_DIR... --out DIR
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
    s.add_argument("overrides", nargs="*", help="configuration overrides as for evaluate, e.g. metrics=all "
                   "analysis.options.identity_backend=arcface analysis.cache_dir=DIR")

    r = sub.add_parser("rescore", help="recompute metrics of a run from its cached features (no decoding)")
    r.add_argument("run_dir", type=Path)
    r.add_argument("--reanalyze", action="store_true", help="analyse stored videos again where features are not cached")
    r.add_argument("--include", action="append", default=[], metavar="FILE.py")
    r.add_argument("overrides", nargs="*", help="overrides on top of the run's frozen configuration, e.g. metrics=all")

    ls = sub.add_parser("list", help="list suites, models or metrics")
    ls.add_argument("what", choices=["suites", "models", "metrics"])
    ls.add_argument("--include", action="append", default=[], metavar="FILE.py")

    v = sub.add_parser("validate", help="check a run folder against the results schema")
    v.add_argument("run_dir", type=Path)

    mg = sub.add_parser("merge", help="combine the run folders of a sharded evaluation (run.shard=i/n) into one run")
    mg.add_argument("shards", nargs="+", type=Path, metavar="RUN_DIR", help="finished shard runs of one evaluation")
    mg.add_argument("--out", type=Path, required=True, help="the merged run folder to write (must not exist)")

    w = sub.add_parser("weights", help="list weight files of the model-backed metrics, or fetch one")
    w.add_argument("action", nargs="?", default="list", choices=["list", "fetch"])
    w.add_argument("name", nargs="?")
    w.add_argument("--dir", type=Path, help="weights folder (default: $LPMBENCH_WEIGHTS_DIR or ~/.cache/lpmbench/weights)")

    su = sub.add_parser("suite", help="make a suite from a folder of real recordings")
    ssub = su.add_subparsers(dest="suite_action", required=True)
    si = ssub.add_parser("import", help="one case per recording: reference = a frame, agent audio = its soundtrack, "
                                        "the recording kept as ground truth (score it with model=groundtruth)")
    si.add_argument("src", type=Path, help="folder of videos of real people, each with its own audio")
    si.add_argument("--out", type=Path, required=True, help="the suite folder to write")
    si.add_argument("--name", help="suite name (default: the --out folder's name)")
    si.add_argument("--source", default="", help="where the recordings come from (recorded for every asset)")
    si.add_argument("--license", default="", help="their licence (recorded for every asset)")

    rf = sub.add_parser("reference", help="build or show a human reference (what real people do, measured)")
    rsub = rf.add_subparsers(dest="ref_action", required=True)
    rb = rsub.add_parser("build", help="measure real recordings (each with its own audio) into a reference file",
                         description="VIDEO may be VIDEO@CONTEXT (speak, idle, listen); default: auto from the voice")
    rb.add_argument("videos", nargs="+", help="recordings of real people, e.g. data/hdtf/*.mp4 or clip.mp4@idle")
    rb.add_argument("--out", type=Path, required=True, help="the reference JSON file to write")
    rb.add_argument("--name", default="custom", help="a name for the reference (shown on the leaderboard)")
    rb.add_argument("--version", default="1")
    rb.add_argument("--provenance", default="", help="where the recordings come from (recorded per clip)")
    rb.add_argument("--include", action="append", default=[], metavar="FILE.py")
    rb.add_argument("overrides", nargs="*", help="configuration overrides (analysis.*, metrics=...)")
    rs = rsub.add_parser("show", help="print a reference's human ranges per metric and context")
    rs.add_argument("path", nargs="?", type=Path, help="a reference file (default: the bundled one)")

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
    from .config import to_yaml
    from .plan import compose_config, plan_from_config
    from .results import load_run
    from .runner import evaluate

    overrides = list(a.overrides) + (["run.resume=true"] if a.resume else [])
    cfg = compose_config(overrides, include=a.include)
    if a.cfg:
        print(to_yaml(cfg))
        return 0
    plan = plan_from_config(cfg, include=a.include)
    suite = plan.suite
    print(f"suite {suite.name} ({len(suite.cases)} cases, hash {suite.content_hash[:12]}), model {plan.model_name} "
          f"[{plan.adapter.adapter}], {len(plan.metrics.specs)} metrics, timeout {plan.run.timeout_s:g} s per case",
          file=sys.stderr)
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    run_dir = evaluate(plan)
    run = load_run(run_dir)
    n_ok = sum(r.status == "ok" for r in run.cases.values())
    errors = [r for r in run.cases.values() if r.status == "error"]
    print(f"\nrun written to {run_dir}: {n_ok} ok, {len(errors)} failed, "
          f"{sum(r.status == 'skipped' for r in run.cases.values())} skipped")
    for r in errors:
        print(f"  {r.case_id}: [{r.error.get('stage')}] {r.error.get('message')}" if r.error else f"  {r.case_id}")
    return 0


def cmd_score(a: argparse.Namespace) -> int:
    from .plan import build_plan
    from .runner import score_video

    plan = build_plan(a.overrides, include=a.include, need_suite=False)
    prompts = [parse_prompt(p) for p in a.prompt]
    out, _ = score_video(plan, a.video, a.reference, audio=a.audio, partner_audio=a.partner_audio,
                         prompts=prompts, style=a.style)
    specs = plan.metrics.specs
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
            "details": out.details, "config": plan.config,
        }
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(doc, indent=2, default=str))
        print(f"\nwrote {a.json}")
    return 0


def cmd_rescore(a: argparse.Namespace) -> int:
    from .plan import plan_for_run
    from .results import load_run
    from .runner import rescore

    run = load_run(a.run_dir)
    plan = plan_for_run(a.run_dir, a.overrides, include=a.include)
    if plan.suite.content_hash != run.manifest.suite.get("hash"):
        print(f"warning: suite {plan.suite.name} changed since the run (hash differs); rescoring with the current case "
              "definitions", file=sys.stderr)
    n = rescore(plan, a.run_dir, reanalyze=a.reanalyze)
    print(f"rescored {n} case(s) of {run.run_id}")
    return 0


def cmd_list(a: argparse.Namespace) -> int:
    from .registry import ADAPTERS, SUITES, include_file

    for inc in a.include:
        if inc.endswith(".py"):
            include_file(inc)
    if a.what == "suites":
        from .case import load_suite

        rows = []
        for name in sorted(SUITES.names()):
            try:
                s = load_suite(name, check_audio=False)
                rows.append({"suite": name, "cases": len(s.cases), "minutes": f"{sum(c.duration for c in s.cases) / 60:.1f}",
                             "modes": ",".join(sorted({c.mode for c in s.cases})), "source": SUITES.origin(name),
                             "description": s.description[:60]})
            except Exception as e:
                rows.append({"suite": name, "source": SUITES.origin(name), "description": f"INVALID: {e}"})
        print(_table(rows, ["suite", "cases", "minutes", "modes", "source", "description"]))
    elif a.what == "models":
        import yaml

        from .config import CONF_DIR, group_options

        rows = []
        for name in group_options("model"):
            d = yaml.safe_load((CONF_DIR / "model" / f"{name}.yaml").read_text()) or {}
            rows.append({"model": name, "adapter": d.get("adapter", ""), "timeout_s": d.get("timeout_s", ""),
                         "modes": ",".join((d.get("params") or {}).get("modes") or []) or "all"})
        print(_table(rows, ["model", "adapter", "timeout_s", "modes"]))
        print("\nadapters (usable as model=NAME): " + ", ".join(f"{n} ({ADAPTERS.origin(n)})" for n in sorted(ADAPTERS.names())))
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
    from .results import ResultsError, load_run, validate_run

    try:
        run = load_run(a.run_dir)
    except ResultsError as e:
        print(f"INVALID: {e}")
        return 1
    problems = validate_run(run)
    fatal = [p for p in problems if p.fatal]
    print(f"{run.run_id}: {len(run.cases)} case record(s), status {run.manifest.status}, protocol {run.manifest.protocol}: "
          f"{'INVALID (the leaderboard skips it)' if fatal else 'valid'}")
    for p in problems:
        print(f"  {'problem' if p.fatal else 'warning'}: {p}")
    return 1 if problems else 0


def cmd_merge(a: argparse.Namespace) -> int:
    from .merge import merge_runs
    from .results import load_run

    out = merge_runs(a.shards, a.out)
    run = load_run(out)
    print(f"merged {len(a.shards)} shards into {out}: {len(run.cases)} cases, protocol {run.manifest.protocol}")
    return 0


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


def cmd_suite(a: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from .case import load_suite
    from .suite_import import import_suite

    bar = tqdm(desc="import", unit="video", disable=None)
    out = import_suite(a.src, a.out, name=a.name, source=a.source, license=a.license,
                       progress=lambda i, n, name: (bar.reset(total=n) if i == 0 else bar.update(1), bar.set_postfix_str(name)))
    bar.close()
    suite = load_suite(out)
    modes = ", ".join(f"{sum(c.mode == m for c in suite.cases)} {m}" for m in sorted({c.mode for c in suite.cases}))
    print(f"wrote suite {suite.name!r} to {out}: {len(suite.cases)} cases ({modes}); evaluate the recordings themselves "
          f"with `lpmbench evaluate model=groundtruth suite={out}`")
    skipped = out / "IMPORT_SKIPPED.txt"
    if skipped.exists():
        print(f"skipped (see {skipped}):\n{skipped.read_text()}", end="")
    return 0


def cmd_reference(a: argparse.Namespace) -> int:
    from . import reference as R

    if a.ref_action == "show":
        ref = R.load_reference(a.path)
        print(f"{ref.name} v{ref.data.get('version')} (id {ref.id}), {len(ref.data.get('sources') or [])} source clips")
        rows = []
        for metric, per in sorted((ref.data.get("metrics") or {}).items()):
            for ctx, st in per.items():
                q = st.get("q", {})
                rows.append({"metric": metric, "context": ctx, "n": st.get("n"),
                             "q05": _fmt(q.get("5", float("nan"))), "median": _fmt(q.get("50", float("nan"))),
                             "q95": _fmt(q.get("95", float("nan")))})
        print(_table(rows, ["metric", "context", "n", "q05", "median", "q95"]))
        return 0
    from .plan import build_plan

    plan = build_plan(a.overrides, include=a.include, need_suite=False)
    videos = []
    for v in a.videos:
        path, at, ctx = v.rpartition("@") if "@" in v and v.rpartition("@")[2] in (*R.CONTEXTS, "auto") else (v, "", "auto")
        if not Path(path).is_file():
            raise ValueError(f"reference build: no such video {path!r}")
        videos.append((Path(path), ctx, a.provenance))
    from tqdm.auto import tqdm

    bar = tqdm(total=len(videos), desc="reference", unit="clip", disable=None)

    def progress(i: int, n: int, name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1 if i else 0)

    doc = R.build_reference(plan, videos, name=a.name, version=a.version, progress=progress)
    bar.close()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(doc, indent=1))
    counts = {c: sum(s["context"] == c for s in doc["sources"]) for c in R.CONTEXTS}
    print(f"wrote {a.out}: {len(doc['sources'])} clips ({', '.join(f'{n} {c}' for c, n in counts.items())}), "
          f"{len(doc['metrics'])} natural metrics, id {R.HumanReference(doc).id}")
    return 0


def cmd_leaderboard(a: argparse.Namespace) -> int:
    from .leaderboard import launch

    return launch(a.results, port=a.port) or 0


COMMANDS = {"evaluate": cmd_evaluate, "score": cmd_score, "rescore": cmd_rescore, "list": cmd_list,
            "validate": cmd_validate, "merge": cmd_merge, "weights": cmd_weights, "suite": cmd_suite,
            "reference": cmd_reference, "leaderboard": cmd_leaderboard}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    # overrides (key=value) may stand anywhere, also after options: collect the ones argparse left
    args, extra = parser.parse_known_args(argv)
    stray = [x for x in extra if x.startswith("-") or "=" not in x or not hasattr(args, "overrides")]
    if stray:
        parser.error(f"unrecognized arguments: {' '.join(stray)}")
    if extra:
        args.overrides = [*args.overrides, *extra]
    from .case import SuiteError
    from .media import MediaError
    from .plugins import PluginError
    from .reference import ReferenceError
    from .registry import RegistryError

    try:
        return COMMANDS[args.command](args) or 0
    except (SuiteError, RegistryError, PluginError, MediaError, ReferenceError, FileExistsError, ValueError) as e:
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
