"""docs/metrics.md is generated from the plugins' metadata and must be current."""
from pathlib import Path

from lpmbench.docs import metric_reference
from lpmbench.plugins import load_metrics

DOC = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"


def test_metric_reference_is_current():
    assert DOC.read_text() == metric_reference(load_metrics(scan_entry_points=False)), (
        "docs/metrics.md is stale: regenerate it with `python -m lpmbench.docs > docs/metrics.md`")


def test_every_metric_is_documented():
    for name, spec in load_metrics(scan_entry_points=False).specs.items():
        assert spec.description, f"{name} has no description"
