"""Writing suite manifests (YAML) and READMEs in a stable, readable layout."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class Flow(dict):
    """A mapping written on one line (``{action: nod, start: 1.0, end: 2.0}``)."""


class FlowList(list):
    """A list written on one line (``[512, 512]``)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=True))
_Dumper.add_representer(FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def dump_yaml(data: dict[str, Any], header: str = "") -> str:
    """YAML text with keys in insertion order, unicode kept readable, and an optional # header."""
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)
    lines = [f"# {h}".rstrip() for h in header.splitlines()] if header else []
    return "\n".join(lines + [body]) if lines else body


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def md_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table; pipes inside cells are escaped."""
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)
