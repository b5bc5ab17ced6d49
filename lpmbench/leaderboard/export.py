"""Export of the leaderboard table as CSV, Markdown (pandas + tabulate) and LaTeX (pandas + jinja2)."""
from __future__ import annotations

import pandas as pd

FORMATS = {"csv": ("text/csv", "csv"), "markdown": ("text/markdown", "md"), "latex": ("application/x-latex", "tex")}


class ExportError(RuntimeError):
    """An export format cannot be produced (a missing optional package: the message names it)."""


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].round(2)
    return out


def to_csv(df: pd.DataFrame) -> str:
    return _clean(df).to_csv(index=False)


def to_markdown(df: pd.DataFrame) -> str:
    try:
        return _clean(df).to_markdown(index=False)
    except ImportError as e:
        raise ExportError(f"Markdown export needs the 'tabulate' package: {e}") from None


def _latex_escape(s: str) -> str:
    repl = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(repl.get(ch, ch) for ch in s)


def to_latex(df: pd.DataFrame, caption: str = "lpmbench leaderboard") -> str:
    """A booktabs table; every cell and header is LaTeX-escaped (results files are untrusted)."""
    d = _clean(df)
    d.columns = [_latex_escape(str(c)) for c in d.columns]
    for c in d.columns:
        if not pd.api.types.is_numeric_dtype(d[c]) and not pd.api.types.is_bool_dtype(d[c]):
            d[c] = d[c].map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else _latex_escape(str(v)))
    try:
        sty = d.style.hide(axis="index").format(precision=2, na_rep="--")
        return sty.to_latex(hrules=True, caption=_latex_escape(caption))
    except ImportError as e:
        raise ExportError(f"LaTeX export needs the 'jinja2' package: {e}") from None


def export(df: pd.DataFrame, fmt: str) -> str:
    """The table as text in ``fmt`` (csv | markdown | latex)."""
    if fmt == "csv":
        return to_csv(df)
    if fmt == "markdown":
        return to_markdown(df)
    if fmt == "latex":
        return to_latex(df)
    raise ExportError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
