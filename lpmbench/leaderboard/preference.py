"""Human preference: pairwise good/same/bad votes (LPM-Bench's GSB study) in SQLite, Bradley-Terry
ratings with bootstrap intervals, and agreement of automatic dimensions with the human ranking.

A vote compares model A with model B on one case and one dimension (or "overall"):
``good`` = A is better, ``same`` = a tie, ``bad`` = A is worse.

Ratings: the Bradley-Terry model P(i beats j) = sigmoid(theta_i - theta_j), fitted by maximum
likelihood with a weak Gaussian prior (``reg``; it keeps a model that won every vote finite).
Ties count as half a win for each side (``ties="half"``) or follow Davidson's model
(``ties="davidson"``: P(tie) proportional to nu * sqrt(pi_i pi_j)). Ratings are shown on the Elo
scale: 1000 + 400 * log10(e) * theta, with theta centred on 0. Intervals: percentile bootstrap
over votes (``numpy.random.default_rng(seed)``, seed 0 by default).
"""
from __future__ import annotations

import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

OUTCOMES = ("good", "same", "bad")
SCORE_OF = {"good": 1.0, "same": 0.5, "bad": 0.0}  # A's share of the win
ELO_SCALE = 400.0 / np.log(10.0)
VOTE_COLUMNS = ["id", "created_at", "voter", "protocol", "case_id", "model_a", "model_b", "run_a", "run_b",
                "dimension", "outcome"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    voter TEXT NOT NULL DEFAULT '',
    protocol TEXT NOT NULL,
    case_id TEXT NOT NULL,
    model_a TEXT NOT NULL,
    model_b TEXT NOT NULL,
    run_a TEXT NOT NULL DEFAULT '',
    run_b TEXT NOT NULL DEFAULT '',
    dimension TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('good', 'same', 'bad')),
    CHECK (model_a <> model_b)
);
CREATE INDEX IF NOT EXISTS votes_protocol ON votes (protocol, dimension);
"""


BUSY_TIMEOUT_S = 30.0  # how long one write waits for SQLite's write lock
WRITE_ATTEMPTS = 5  # a write still refused after BUSY_TIMEOUT_S is tried again, this often


class PreferenceError(ValueError):
    """A vote or a fit request is invalid (the message says which field)."""


@dataclass(frozen=True)
class Vote:
    protocol: str
    case_id: str
    model_a: str
    model_b: str
    dimension: str
    outcome: str  # good | same | bad, from A's side
    voter: str = ""
    run_a: str = ""
    run_b: str = ""

    def check(self) -> None:
        if self.outcome not in OUTCOMES:
            raise PreferenceError(f"vote outcome must be one of {OUTCOMES}, got {self.outcome!r}")
        if self.model_a == self.model_b:
            raise PreferenceError(f"a vote compares two different models, got {self.model_a!r} twice")
        for f in ("protocol", "case_id", "model_a", "model_b", "dimension"):
            if not getattr(self, f):
                raise PreferenceError(f"vote field {f!r} is empty")


def default_votes_path(environ: dict[str, str] | None = None) -> Path:
    """``$LPMBENCH_VOTES`` if set, else ``votes.sqlite`` in the user's data folder
    (``$XDG_DATA_HOME/lpmbench``, default ``~/.local/share/lpmbench``). Votes are people's
    judgments, not run results: they never live inside a results folder, which only the results
    store writes."""
    import os

    env = os.environ if environ is None else environ
    if env.get("LPMBENCH_VOTES"):
        return Path(env["LPMBENCH_VOTES"])
    data = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    return data / "lpmbench" / "votes.sqlite"


class VoteStore:
    """Votes in an embedded SQLite file (created on first use). Safe for many app sessions and
    processes at once: each call opens its own short-lived connection; the file is in WAL mode
    (readers never block the writer, nor it them), a write takes the write lock before it reads
    (``BEGIN IMMEDIATE``: no lock upgrade that SQLite would have to break), waits up to
    :data:`BUSY_TIMEOUT_S` for it and is retried :data:`WRITE_ATTEMPTS` times. A file that cannot
    be written (a read-only folder) is one :class:`PreferenceError` naming it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def _fail(self, doing: str, e: Exception) -> PreferenceError:
        hint = "" if isinstance(e, PreferenceError) else (
            ": is its folder read-only? Set LPMBENCH_VOTES to a file you can write" if _unwritable(e) else "")
        return PreferenceError(f"votes file {self.path}: cannot {doing} ({e}){hint}")

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)  # transactions are ours
        try:
            if con.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
                raise PreferenceError("the file cannot be switched to WAL mode")
        except BaseException:
            con.close()
            raise
        return con

    def add(self, votes: Vote | Iterable[Vote]) -> int:
        """Store one vote or several (atomically); returns how many were stored."""
        vs = [votes] if isinstance(votes, Vote) else list(votes)
        for v in vs:
            v.check()
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        rows = [(now, v.voter, v.protocol, v.case_id, v.model_a, v.model_b, v.run_a, v.run_b, v.dimension, v.outcome)
                for v in vs]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise self._fail("create its folder", e) from None
        for attempt in range(WRITE_ATTEMPTS):
            try:
                con = self._connect()
                try:
                    con.execute("BEGIN IMMEDIATE")
                    try:
                        for stmt in _SCHEMA.split(";"):  # not executescript: it would commit first
                            if stmt.strip():
                                con.execute(stmt)
                        con.executemany(
                            "INSERT INTO votes (created_at, voter, protocol, case_id, model_a, model_b, run_a, run_b,"
                            " dimension, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                        con.execute("COMMIT")
                    except BaseException:
                        con.execute("ROLLBACK")
                        raise
                finally:
                    con.close()
                return len(vs)
            except sqlite3.OperationalError as e:
                if not _busy(e) or attempt == WRITE_ATTEMPTS - 1:
                    raise self._fail(f"store {len(vs)} vote(s)", e) from None
                time.sleep(0.05 * 2 ** attempt * (1 + random.random()))  # jittered back-off before the next attempt
            except (sqlite3.Error, PreferenceError) as e:
                raise self._fail(f"store {len(vs)} vote(s)", e) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def votes(self, protocol: str | None = None) -> pd.DataFrame:
        """All votes (optionally of one protocol) as a DataFrame with VOTE_COLUMNS. A file in a
        read-only folder is read as it stands (``immutable``: WAL mode needs a writable folder)."""
        if not self.path.is_file():
            return pd.DataFrame(columns=VOTE_COLUMNS)
        try:
            try:
                con = self._connect()
            except sqlite3.OperationalError as e:
                if not _unwritable(e):
                    raise
                con = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
            try:
                if not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'votes'").fetchone():
                    return pd.DataFrame(columns=VOTE_COLUMNS)
                q, args = f"SELECT {', '.join(VOTE_COLUMNS)} FROM votes", ()
                if protocol is not None:
                    q, args = q + " WHERE protocol = ?", (protocol,)
                return pd.read_sql_query(q + " ORDER BY id", con, params=args)
            finally:
                con.close()
        except (sqlite3.Error, PreferenceError, pd.errors.DatabaseError) as e:
            raise self._fail("read it", e) from None


def _busy(e: sqlite3.OperationalError) -> bool:
    return "locked" in str(e) or "busy" in str(e)


def _unwritable(e: Exception) -> bool:
    return isinstance(e, OSError) or any(s in str(e) for s in ("readonly", "read-only", "unable to open"))


def tally(votes: pd.DataFrame) -> pd.DataFrame:
    """Per model: votes, wins, ties, losses (each vote counted from both sides)."""
    rows: dict[str, dict[str, int]] = {}
    for a, b, o in zip(votes["model_a"], votes["model_b"], votes["outcome"]):
        for m, res in ((a, o), (b, {"good": "bad", "bad": "good", "same": "same"}[o])):
            r = rows.setdefault(m, {"votes": 0, "wins": 0, "ties": 0, "losses": 0})
            r["votes"] += 1
            r[{"good": "wins", "same": "ties", "bad": "losses"}[res]] += 1
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model").sort_index()


def _pairs(votes: pd.DataFrame, models: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    idx = {m: i for i, m in enumerate(models)}
    i = votes["model_a"].map(idx).to_numpy(dtype=int)
    j = votes["model_b"].map(idx).to_numpy(dtype=int)
    o = votes["outcome"].to_numpy()
    return i, j, (o == "good").astype(float), (o == "same").astype(float)


def _newton(nll, grad, x0: np.ndarray, *, hess=None, tol: float = 1e-9, max_iter: int = 100) -> np.ndarray:
    """Damped Newton minimisation of a smooth convex function (Hessian from differences of the
    analytic gradient unless ``hess`` is given). Small and dependency-free: scipy's L-BFGS-B cost
    ~10 ms a step here, too slow for bootstrap refits."""
    x = np.asarray(x0, dtype=float).copy()
    n, h = len(x), 1e-6
    f = nll(x)
    for _ in range(max_iter):
        g = grad(x)
        if np.max(np.abs(g)) < tol:
            break
        if hess is not None:
            H = hess(x)
        else:
            eye = np.eye(n) * h
            H = np.stack([(grad(x + eye[k]) - g) / h for k in range(n)])
        H = 0.5 * (H + H.T) + 1e-9 * np.eye(n)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = g
        t = 1.0
        while t > 1e-8:  # backtracking line search keeps every step a descent
            xn = x - t * step
            fn = nll(xn)
            if fn <= f - 1e-4 * t * float(g @ step):
                break
            t *= 0.5
        else:
            break
        if abs(f - fn) < tol * (1 + abs(f)):
            x, f = xn, fn
            break
        x, f = xn, fn
    return x


def fit_bradley_terry(i: np.ndarray, j: np.ndarray, win: np.ndarray, tie: np.ndarray, n_models: int, *,
                      ties: str = "half", reg: float = 0.1, weight: np.ndarray | None = None,
                      x0: np.ndarray | None = None) -> tuple[np.ndarray, float | None]:
    """Maximum a-posteriori strengths theta (centred) for votes ``i`` vs ``j`` (A-side ``win`` and
    ``tie`` indicators, each vote counted ``weight`` times); returns (theta, nu) where nu is
    Davidson's tie parameter (None for ties as half wins)."""
    from scipy.special import expit, log_expit

    if ties not in ("half", "davidson"):
        raise PreferenceError(f"ties must be 'half' or 'davidson', got {ties!r}")
    c = np.ones(len(i)) if weight is None else np.asarray(weight, dtype=float)
    loss = 1.0 - win - tie

    if ties == "half":
        s = win + 0.5 * tie  # A's share of the win

        def nll(x: np.ndarray) -> float:
            d = x[i] - x[j]
            return float(-(c * (s * log_expit(d) + (1 - s) * log_expit(-d))).sum() + 0.5 * reg * (x ** 2).sum())

        def grad(x: np.ndarray) -> np.ndarray:
            g_d = -c * (s - expit(x[i] - x[j]))
            return np.bincount(i, g_d, n_models) - np.bincount(j, g_d, n_models) + reg * x

        def hess(x: np.ndarray) -> np.ndarray:
            p = expit(x[i] - x[j])
            w = c * p * (1 - p)
            H = np.zeros((n_models, n_models))
            np.add.at(H, (i, i), w)
            np.add.at(H, (j, j), w)
            np.add.at(H, (i, j), -w)
            np.add.at(H, (j, i), -w)
            return H + reg * np.eye(n_models)

        th = _newton(nll, grad, np.zeros(n_models) if x0 is None else x0[:n_models], hess=hess)
        return th - th.mean(), None

    def parts(x: np.ndarray):
        th, eta = x[:-1], x[-1]
        a, b = th[i], th[j]
        t_ = eta + 0.5 * (a + b)
        log_den = np.logaddexp(np.logaddexp(a, b), t_)  # log(pi_a + pi_b + nu sqrt(pi_a pi_b))
        return th, a, b, t_, log_den

    def nll(x: np.ndarray) -> float:
        th, a, b, t_, log_den = parts(x)
        ll = win * a + loss * b + tie * t_ - log_den
        return float(-(c * ll).sum() + 0.5 * reg * (th ** 2).sum())

    def grad(x: np.ndarray) -> np.ndarray:
        th, a, b, t_, log_den = parts(x)
        pa, pb, pt = np.exp(a - log_den), np.exp(b - log_den), np.exp(t_ - log_den)
        ga = -c * (win + 0.5 * tie - pa - 0.5 * pt)
        gb = -c * (loss + 0.5 * tie - pb - 0.5 * pt)
        g = np.bincount(i, ga, n_models) + np.bincount(j, gb, n_models) + reg * th
        return np.append(g, -(c * (tie - pt)).sum())

    x = _newton(nll, grad, np.zeros(n_models + 1) if x0 is None or len(x0) != n_models + 1 else x0)
    th = x[:-1]
    return th - th.mean(), float(np.exp(x[-1]))


def _collapse(i: np.ndarray, j: np.ndarray, win: np.ndarray, tie: np.ndarray):
    """Identical votes (same pair, same outcome) merged into one row with a count."""
    key = np.stack([i, j, win, tie], axis=1)
    uniq, counts = np.unique(key, axis=0, return_counts=True)
    return uniq[:, 0].astype(int), uniq[:, 1].astype(int), uniq[:, 2], uniq[:, 3], counts.astype(float)


def bradley_terry(votes: pd.DataFrame, *, ties: str = "half", reg: float = 0.1, n_boot: int = 200, seed: int = 0,
                  ci: float = 0.95) -> pd.DataFrame:
    """Ratings (Elo scale) with bootstrap intervals, per model, best first.

    Columns: model, rating, rating_lo, rating_hi, rank, votes, wins, ties, losses."""
    cols = ["model", "rating", "rating_lo", "rating_hi", "rank", "votes", "wins", "ties", "losses"]
    if votes is None or votes.empty:
        return pd.DataFrame(columns=cols)
    bad = ~votes["outcome"].isin(OUTCOMES)
    if bad.any():
        raise PreferenceError(f"unknown vote outcome(s) {sorted(set(votes.loc[bad, 'outcome']))}")
    models = sorted(set(votes["model_a"]) | set(votes["model_b"]))
    i, j, win, tie, count = _collapse(*_pairs(votes, models))
    th, nu = fit_bradley_terry(i, j, win, tie, len(models), ties=ties, reg=reg, weight=count)
    start = th if nu is None else np.append(th, np.log(nu))  # warm start for the refits
    lo = hi = np.full(len(models), np.nan)
    if n_boot > 0:
        # resampling votes with replacement = multinomial counts over the distinct votes
        rng = np.random.default_rng(seed)
        n, p = int(count.sum()), count / count.sum()
        boots = [fit_bradley_terry(i, j, win, tie, len(models), ties=ties, reg=reg, weight=rng.multinomial(n, p),
                                   x0=start)[0]
                 for _ in range(n_boot)]
        b = np.asarray(boots)
        lo, hi = np.percentile(b, 100 * (1 - ci) / 2, axis=0), np.percentile(b, 100 * (1 + ci) / 2, axis=0)
    out = pd.DataFrame({
        "model": models, "rating": 1000 + ELO_SCALE * th,
        "rating_lo": 1000 + ELO_SCALE * lo, "rating_hi": 1000 + ELO_SCALE * hi,
    })
    out["rank"] = out["rating"].rank(ascending=False, method="min").astype(int)
    out = out.join(tally(votes), on="model")
    return out.sort_values(["rank", "model"]).reset_index(drop=True)[cols]


def agreement(human: pd.Series, automatic: pd.Series) -> dict[str, float | int | str]:
    """Rank agreement between human ratings and an automatic score over the models both cover:
    Spearman's rho and Kendall's tau (scipy) with p-values; ``reason`` when it cannot be computed."""
    from scipy.stats import kendalltau, spearmanr

    both = pd.concat([human.rename("h"), automatic.rename("a")], axis=1, join="inner").dropna()
    n = len(both)
    out: dict[str, float | int | str] = {"n_models": n, "spearman": np.nan, "spearman_p": np.nan,
                                         "kendall": np.nan, "kendall_p": np.nan, "reason": ""}
    if n < 3:
        out["reason"] = f"needs at least 3 models with both a human rating and an automatic score (has {n})"
        return out
    if both["h"].nunique() < 2 or both["a"].nunique() < 2:
        out["reason"] = "one of the two rankings is constant"
        return out
    rho = spearmanr(both["h"], both["a"])
    tau = kendalltau(both["h"], both["a"])
    out.update(spearman=float(rho.statistic), spearman_p=float(rho.pvalue), kendall=float(tau.statistic),
               kendall_p=float(tau.pvalue))
    return out


def agreement_table(votes: pd.DataFrame, table: pd.DataFrame, dims: Sequence[str], *, ties: str = "half",
                    n_boot: int = 0, seed: int = 0) -> pd.DataFrame:
    """For each dimension (and "overall"): how the automatic score ranks models vs the human
    Bradley-Terry rating fitted on that dimension's votes. ``table``: the leaderboard rows of one
    protocol (columns model, overall, <dims>)."""
    rows = []
    for d in [*dims, "overall"]:
        v = votes[votes["dimension"] == d]
        row: dict[str, object] = {"dimension": d, "votes": len(v)}
        if v.empty:
            row.update(n_models=0, spearman=np.nan, kendall=np.nan, spearman_p=np.nan, kendall_p=np.nan,
                       reason="no votes on this dimension")
        elif d not in table.columns:
            row.update(n_models=0, spearman=np.nan, kendall=np.nan, spearman_p=np.nan, kendall_p=np.nan,
                       reason="no automatic score for this dimension")
        else:
            bt = bradley_terry(v, ties=ties, n_boot=n_boot, seed=seed).set_index("model")["rating"]
            row.update(agreement(bt, table.set_index("model")[d]))
        rows.append(row)
    return pd.DataFrame(rows, columns=["dimension", "votes", "n_models", "spearman", "spearman_p", "kendall",
                                       "kendall_p", "reason"])
