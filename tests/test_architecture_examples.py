"""The worked examples of docs/architecture.md (add a metric, an adapter, an extractor, a suite, a
leaderboard page) run as written."""
from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

from lpmbench.registry import ADAPTERS, EXTRACTORS, METRICS, SUITES

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"
BLOCK = re.compile(r"```python example=(\w+)\n(.*?)```", re.S)
EXAMPLES = dict(BLOCK.findall(DOC.read_text()))


def test_every_kind_of_extension_has_an_example():
    assert set(EXAMPLES) == {"metric", "adapter", "extractor", "suite", "page"}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs(name, tmp_path, monkeypatch):
    monkeypatch.setenv("LPMBENCH_RESULTS", str(tmp_path / "results"))
    source = tmp_path / f"example_{name}.py"
    source.write_text(EXAMPLES[name])
    # the adapter example's worker process re-imports this file to find its registration
    code = compile(EXAMPLES[name], str(source), "exec")
    with contextlib.ExitStack() as undo:  # the examples register plug-ins; later tests must not see them
        for registry in (ADAPTERS, METRICS, EXTRACTORS, SUITES):
            undo.enter_context(registry.restored())
        exec(code, {"__name__": f"example_{name}", "__file__": str(source), "tmp": tmp_path})
