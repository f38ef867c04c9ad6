"""Pure: turn per-N results into figures with ratios and targets, a table, a comparison."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MB = 1024 * 1024
RSS_SLACK = 80 * MB  # peak RSS target: < 4 × store size + 80 MB
SCALING_LIMIT = 1.3  # per-feed(largest N) / per-feed(smallest N)
# Issue 16's goals, checked in the curve (the table keeps the earlier targets): each poll's ratio
# to its baseline, and that ratio at the largest N over the smallest (it must not grow with N).
GOALS = {"cold": ("floor_cold", 0.35), "warm": ("floor_warm", 0.25), "nochange": ("cold", 0.1)}
RATIO_GROWTH = 1.1  # the noise a ratio may show from the smallest N to the largest

@dataclass(frozen=True)
class Figure:
    """One measured figure at one N, with its ratio to a baseline and the issue's target."""

    key: str
    label: str
    value: float  # seconds, or bytes for sizes
    unit: str = "s"  # "s" | "B"
    ratio: float | None = None
    base: str = ""  # what the ratio is to
    limit: float | None = None  # the ratio (or, for RSS, the value) must be at most this

    @property
    def ok(self) -> bool | None:
        if self.limit is None:
            return None
        measured = self.ratio if self.ratio is not None else self.value
        return measured <= self.limit


_ROUNDS = (("cold", "cold"), ("warm", "warm"), ("nochange", "no-change"))
# key in the result, label, baseline key, target ratio
_TIMED = (
    ("floor_cold", "floor (cold)", None, None),
    ("cold", "cold poll", "floor_cold", 0.5),
    ("floor_warm", "floor (warm)", None, None),
    ("warm", "warm poll", "floor_warm", 0.5),
    ("nochange", "no-change poll", "cold", 0.1),
    ("publish", "publish stage, all rendered", "cold", 0.05),
    ("publish_again", "publish stage, no topic changed", "cold", 0.05),
    ("publish_command", "`aggregator publish` (reads the store)", "cold", None),
    ("store_load", "store load", None, None),
    ("store_save", "store save", None, None),
)


def ratio(value: float, base: float) -> float | None:
    return value / base if base > 0 else None


def goal_ratios(result: dict[str, Any], key: str) -> list[float]:
    """*key*'s ratio to its GOALS baseline in each round (the first, then ``--rounds``' repeats),
    each against the baseline measured beside it."""
    base = GOALS[key][0]
    rounds = [{k: v["seconds"] for k, v in result.items() if k in (key, base)}, *result.get("repeats", ())]
    found = [ratio(r[key], r[base]) for r in rounds if key in r and base in r]
    return [x for x in found if x is not None]


def goal_ratio(result: dict[str, Any], key: str) -> float | None:
    """The median of ``goal_ratios``: of an even count, the higher middle one (a measured
    figure, and the less flattering)."""
    found = sorted(goal_ratios(result, key))
    return found[len(found) // 2] if found else None


def rss_limit(store_bytes: int) -> int:
    return 4 * store_bytes + RSS_SLACK


def figures(result: dict[str, Any]) -> list[Figure]:
    """Every figure of one N's result, in table order."""
    out = []
    for key, label, base, limit in _TIMED:
        if key not in result:
            continue
        secs = result[key]["seconds"]
        r = ratio(secs, result[base]["seconds"]) if base and base in result else None
        if result[key].get("profiled"):
            label += " (cProfile on)"  # inflated: not comparable with unprofiled runs
        out.append(Figure(key, label, secs, "s", r, base or "", limit if r is not None else None))
    n = result["n"]
    if "cold" in result and n:
        out.append(Figure("per_feed", "per-feed cold", result["cold"]["seconds"] / n))
    if "store_bytes" in result:
        out.append(Figure("store_bytes", "store size", result["store_bytes"], "B"))
    limit = rss_limit(result["store_bytes"]) if "store_bytes" in result else None
    for key, label in _ROUNDS:
        if result.get(key, {}).get("rss"):
            out.append(Figure(f"rss_{key}", f"peak RSS in the {label} poll (upper bound)", result[key]["rss"], "B",
                              limit=limit))
    if "pool_startup" in result:
        for name, secs in sorted(result["pool_startup"].items()):
            method, what = name.split("_")
            out.append(Figure(f"pool_{name}", f"parse pool start ({method}): {'first feed' if what == 'first' else 'closed'}",
                              secs))
    if "cron_run" in result:
        cron = result["cron_run"]
        out.append(Figure("cron_seconds", "cron run, 20 % changed (own process)", cron["seconds"]))
        limit = rss_limit(result["store_bytes"]) if "store_bytes" in result else None
        out.append(Figure("rss_cron", "peak RSS of that run", cron["rss"], "B", limit=limit))
        if cron.get("rss_workers"):
            out.append(Figure("rss_cron_workers", "peak RSS of its largest parse worker", cron["rss_workers"], "B"))
    if "rss_self" in result:
        out.append(Figure("rss_self", "peak RSS, benchmark process (all rounds)", result["rss_self"], "B"))
        out.append(Figure("rss_children", "peak RSS, children", result["rss_children"], "B"))
    return out


def scaling(results: list[dict[str, Any]]) -> Figure | None:
    """Per-feed cold-poll time at the largest N over that at the smallest."""
    done = sorted((r for r in results if "cold" in r and r["n"]), key=lambda r: r["n"])
    if len(done) < 2:
        return None
    small, large = done[0], done[-1]
    per = [r["cold"]["seconds"] / r["n"] for r in (small, large)]
    return Figure("scaling", f"per-feed N={large['n']} / N={small['n']}", per[1], "s",
                  ratio(per[1], per[0]), f"per-feed N={small['n']}", SCALING_LIMIT)


def peak_rss(result: dict[str, Any], rounds: bool = False) -> int:
    """The largest peak RSS of the cron run's processes (itself, its parse workers), or (*rounds*)
    of the poll rounds in the benchmark process: an upper bound, as that process held the
    floor's leftovers and its imports before each round."""
    if rounds:
        return max([result.get(k, {}).get("rss") or 0 for k, _ in _ROUNDS])
    cron = result.get("cron_run", {})
    return max(cron.get("rss", 0), cron.get("rss_workers", 0))


def curve(results: list[dict[str, Any]]) -> str:
    """One row per N: each poll's ratio to its baseline against issue 16's goal, the time per
    feed, and the largest peak RSS against the budget; then whether the ratios hold as N grows."""
    done = sorted((r for r in results if "cold" in r and "floor_cold" in r and r["n"]), key=lambda r: r["n"])
    if not done:
        return ""
    head = ["N", *(f"{k}÷{b.split('_')[0]}{'(warm)' if b == 'floor_warm' else ''} ≤{g:g}" for k, (b, g) in GOALS.items()),
            "per feed: floor", "cold", "warm", "peak RSS ≤ 4×store+80MB: cron run", "rounds (upper bound)"]
    rows = [head]
    spread = []
    for r in done:
        cells = [str(r["n"])]
        for key, (base, goal) in GOALS.items():
            x = goal_ratio(r, key)
            cells.append("—" if x is None else f"{x:.2f} {'ok' if x <= goal else 'MISS'}")
            each = goal_ratios(r, key)
            if len(each) > 1:
                spread.append(f"N={r['n']} {key}: " + " ".join(f"{y:.2f}" for y in each))
        for key in ("floor_cold", "cold", "warm"):
            cells.append(fmt_value(r[key]["seconds"] / r["n"], "s") if key in r else "—")
        budget = rss_limit(r["store_bytes"]) if "store_bytes" in r else None
        for peak in (peak_rss(r), peak_rss(r, rounds=True)):
            cells.append(f"{peak / MB:.0f} MB / {budget / MB:.0f} MB {'ok' if peak <= budget else 'MISS'}"
                         if budget and peak else "—")
        rows.append(cells)
    widths = [max(len(row[c]) for row in rows) for c in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if spread:
        lines.append("\nratios: the median of the rounds (per feed and RSS: the first round's); each round:\n  "
                     + "\n  ".join(spread))
    if len(done) > 1:
        small, large = done[0], done[-1]
        growth = []
        for key in GOALS:
            a, b = goal_ratio(small, key), goal_ratio(large, key)
            if a and b:
                growth.append(f"{key} {b / a:.2f}× {'ok' if b / a <= RATIO_GROWTH else 'MISS'}")
        lines.append(f"\nratio to the baseline, N={large['n']} ÷ N={small['n']} (target ≤ {RATIO_GROWTH}): "
                     + ", ".join(growth))
    return "\n".join(lines)


def fmt_value(value: float, unit: str) -> str:
    if unit == "B":
        return f"{value / MB:.1f} MB"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def fmt_cell(f: Figure) -> str:
    text = fmt_value(f.value, f.unit)
    if f.ratio is not None:
        text += f" {f.ratio:.2f}×"
    if f.unit == "B" and f.limit is not None:
        text += f" (<{f.limit / MB:.0f} MB)"
    if f.ok is not None:
        text += " ok" if f.ok else " MISS"
    return text


def _target(f: Figure) -> str:
    if f.key.startswith("rss_") and f.limit is not None:
        return "< 4×store+80MB"
    if f.limit is None:
        return ""
    return f"≤ {f.limit:g}× {dict((k, lbl) for k, lbl, _, _ in _TIMED).get(f.base, f.base)}"


def table(results: list[dict[str, Any]]) -> str:
    """Rows are figures, columns are N; each cell: absolute value, ratio, ok/MISS."""
    per_n = [(r["n"], {f.key: f for f in figures(r)}) for r in results]
    order: list[Figure] = []
    for _, figs in per_n:
        order += [f for f in figs.values() if f.key not in {o.key for o in order}]
    head = ["figure", "target"] + [f"N={n}" for n, _ in per_n]
    rows = [head]
    for proto in order:
        row = [proto.label, _target(proto)]
        row += [fmt_cell(figs[proto.key]) if proto.key in figs else "—" for _, figs in per_n]
        rows.append(row)
    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    sc = scaling(results)
    if sc is not None:
        lines.append(f"\nscaling: {sc.label} = {sc.ratio:.2f}× (target ≤ {SCALING_LIMIT}) "
                     + ("ok" if sc.ok else "MISS"))
    return "\n".join(lines)




def stages_table(results: list[dict[str, Any]]) -> str:
    """Where each poll's wall time went, stage by stage (``RunReport.stages``): one column per
    N and round. Each moment is charged to one stage, so a column adds up to the poll."""
    cols = [(r["n"], label, r[key]["stages"]) for r in results for key, label in _ROUNDS
            if r.get(key, {}).get("stages")]
    if not cols:
        return ""
    names: list[str] = []
    for _, _, st in cols:
        names += [k for k in st if k not in names]
    head = ["seconds per stage"] + [f"N={n} {label}" for n, label, _ in cols]
    rows = [head] + [[name] + [f"{st[name]:.2f}" if name in st else "—" for _, _, st in cols] for name in names]
    rows.append(["total"] + [f"{sum(st.values()):.2f}" for _, _, st in cols])
    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    lines = ["  ".join(cell.rjust(w) if c else cell.ljust(w) for c, (cell, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Old vs new for every figure at every N both runs measured: new/old < 1 is faster."""
    olds = {r["n"]: {f.key: f for f in figures(r)} for r in old.get("results", [])}
    lines = [f"{'N':>6}  {'figure':<20} {'old':>12} {'new':>12}  new/old"]
    for r in new.get("results", []):
        if r["n"] not in olds:
            continue
        for f in figures(r):
            o = olds[r["n"]].get(f.key)
            if o is None:
                continue
            rel = f"{f.value / o.value:.2f}×" if o.value else "—"
            lines.append(f"{r['n']:>6}  {f.label:<20} {fmt_value(o.value, o.unit):>12} "
                         f"{fmt_value(f.value, f.unit):>12}  {rel}")
    if len(lines) == 1:
        lines.append("(no N in common)")
    return "\n".join(lines)


def sanity(result: dict[str, Any]) -> list[str]:
    """Warnings when a round did not do the work it is meant to measure."""
    n, warn = result["n"], []
    for key, want in (("cold", "fetched"), ("nochange", "not_modified")):
        got = result.get(key, {}).get("outcomes", {})
        if key in result and got.get(want, 0) != n:
            warn.append(f"N={n} {key}: expected {n} {want}, got {got}")
    warm = result.get("warm", {}).get("outcomes", {})
    if "warm" in result and warm.get("fetched", 0) != result["changed"]:
        warn.append(f"N={n} warm: expected {result['changed']} fetched, got {warm}")
    for key in ("floor_cold", "floor_warm"):
        if result.get(key, {}).get("failed"):
            warn.append(f"N={n} {key}: {result[key]['failed']} requests failed")
    return warn
