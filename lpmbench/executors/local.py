"""``executor=local``: one machine, generation pipelined with analysis.

The generator runs in its worker process (:class:`~lpmbench.worker.AdapterWorker`); a feeder
thread drives it case after case into a queue of depth ``lookahead``, while this thread analyses
and scores the case before. On a machine where the generator and the analysis each leave cores
idle, the two overlap instead of alternating. ``pipeline=false`` runs one case at a time (the
same records, in order).
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Iterator

from ..case import Case
from ..worker import AdapterWorker, GenerationFailed

_END = object()


class LocalExecutor:
    name = "local"

    def __init__(self, pipeline: bool = True, lookahead: int = 1):
        if int(lookahead) < 1:
            raise ValueError(f"executor.lookahead must be >= 1, got {lookahead!r}")
        self.pipeline, self.lookahead = bool(pipeline), int(lookahead)
        self.worker: AdapterWorker | None = None
        self.streams = False

    def describe(self) -> dict[str, Any]:
        import socket

        return {"name": self.name, "pipeline": self.pipeline, "lookahead": self.lookahead, "nodes": 1,
                "node": socket.gethostname()}

    def start(self, plan: Any) -> dict[str, Any]:
        self.worker = AdapterWorker(plan.adapter)
        desc = self.worker.start()
        self.streams = bool(desc.get("streaming"))
        return desc

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None

    def run(self, plan: Any, cases: list[Case], store: Any) -> Iterator[Any]:
        from ..runner import generate_case, score_case

        assert self.worker is not None, "start() first"
        with plan.analyzer() as analyzer:
            if not self.pipeline:
                for case in cases:
                    rec, video, timing = generate_case(plan, self.worker, store, case, self.streams)
                    yield rec if video is None else score_case(plan, analyzer, store, case, video, timing, rec)
                return
            generated: queue.Queue = queue.Queue(maxsize=self.lookahead)
            stop = threading.Event()

            def feed() -> None:
                try:
                    for case in cases:
                        if stop.is_set():
                            break
                        _offer(generated, (case, *generate_case(plan, self.worker, store, case, self.streams)), stop)
                except BaseException as e:  # re-raised in the consuming thread (unless it stopped)
                    _offer(generated, e, stop)
                    return
                _offer(generated, _END, stop)

            feeder = threading.Thread(target=feed, name="lpmbench-generate", daemon=True)
            feeder.start()
            try:
                while True:
                    item = generated.get()
                    if item is _END:
                        return
                    if isinstance(item, BaseException):
                        raise item
                    case, rec, video, timing = item
                    yield rec if video is None else score_case(plan, analyzer, store, case, video, timing, rec)
            finally:
                stop.set()
                if feeder.is_alive():
                    # a generation in flight: stop the worker so the thread returns promptly
                    self.worker.kill()
                feeder.join(timeout=30)


def _offer(q: queue.Queue, item: Any, stop: threading.Event) -> None:
    """Put ``item`` unless the consumer has stopped (a full queue then never drains)."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.2)
            return
        except queue.Full:
            continue


__all__ = ["LocalExecutor", "GenerationFailed"]
