"""Reference stream server: ``python -m lpmbench.streaming.puppet_server --port 8765``.

Serves the puppet baseline (``lpmbench.adapters.puppet``) over the streaming protocol, so that
``model=remote`` can be checked against the in-process puppet. ``--adapter`` serves another
registered streaming adapter (a name or ``module:Class``); ``--adapter synthetic`` serves the
synthetic session of :mod:`lpmbench.streaming.synthetic_session` (no baseline needed: for protocol
and harness checks).
"""
from __future__ import annotations

import argparse
import logging


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m lpmbench.streaming.puppet_server", description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--adapter", default="puppet",
                    help="registered adapter name or 'module:Class' (default: puppet); 'synthetic' for the "
                         "synthetic session (tests, benchmarks)")
    ap.add_argument("--work-ms", type=float, default=0.0, help="synthetic session only: simulated compute per frame")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from .server import serve, serve_adapter

    if args.adapter == "synthetic":
        from .synthetic_session import SyntheticSession

        def make_session(meta, refs):
            n = int(round(float(meta["duration"]) * float(meta.get("fps", 25))))
            return SyntheticSession(refs[0], meta.get("fps", 25), meta.get("width", 512), meta.get("height", 512), n,
                                    work_s=args.work_ms / 1000)

        serve(make_session, args.host, args.port, info={"name": "synthetic", "version": "1"})
        return
    from ..registry import ADAPTERS, RegistryError

    try:
        adapter = ADAPTERS.resolve(args.adapter)()
    except RegistryError as e:
        ap.error(str(e))
    if not adapter.streaming:
        ap.error(f"adapter {args.adapter!r} does not stream (no open_stream)")
    serve_adapter(adapter, args.host, args.port)


if __name__ == "__main__":
    main()
