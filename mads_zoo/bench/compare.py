"""``mads-zoo report RUN_A RUN_B``: two runs' results side by side, differences against CIs.

For every combo (in run A's leaderboard order, then combos only B has): where it got to, the
selection metric and, for finalists, test accuracy and macro F1, each with both values, the
difference and whether it exceeds the 95% CIs over seeds (a score at a rung comes from one
run and has no CI).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from mads_zoo.bench.leaderboard import ranked, selection_score
from mads_zoo.bench.results import ComboResult, Outcome
from mads_zoo.stats import Summary


class Verdict(StrEnum):
    """What a comparison says of one figure in two runs."""

    SAME = "identical"
    WITHIN = "within CIs"
    BEYOND = "beyond CIs"
    NO_CI = "differs (no CI)"
    DIFFERS = "differs"


@dataclass(frozen=True)
class ComparisonRow:
    """One figure of one combo in both runs: a summary, or where the combo got to."""

    combo: str
    figure: str
    a: Summary | str | None
    b: Summary | str | None
    delta: float | None
    verdict: Verdict | None


def compare_figure(a: Summary, b: Summary) -> tuple[float, Verdict]:
    """``(b - a, verdict)`` of one figure in two runs."""
    delta = b.mean - a.mean
    if delta == 0:
        return 0.0, Verdict.SAME
    if a.has_ci and b.has_ci:
        return delta, Verdict.WITHIN if a.overlaps(b) else Verdict.BEYOND
    return delta, Verdict.NO_CI


def _reached(r: ComboResult | None) -> str:
    if r is None:
        return "-"
    if r.test:
        return "final"
    return "failed" if r.outcome is Outcome.FAILED else f"rung {r.rung}"


def _figures(r: ComboResult | None, metric: str) -> dict[str, Summary | None]:
    names = (f"val {metric}", "test accuracy", "test macro_f1")
    if r is None:
        return dict.fromkeys(names)
    tested = bool(r.test)
    return {
        names[0]: selection_score(r),
        names[1]: r.test_summary("accuracy") if tested else None,
        names[2]: r.test_summary("macro_f1") if tested else None,
    }


def compare_rows(
    a: Sequence[ComboResult], b: Sequence[ComboResult], metric: str
) -> list[ComparisonRow]:
    """Every combo's figures in runs ``a`` and ``b`` (see the module docstring)."""
    in_a, in_b = {r.combo.key: r for r in a}, {r.combo.key: r for r in b}
    keys = [r.combo.key for r in ranked(a)] + [k for k in in_b if k not in in_a]
    rows = []
    for key in keys:
        ra, rb = in_a.get(key), in_b.get(key)
        where = _reached(ra), _reached(rb)
        verdict = Verdict.SAME if where[0] == where[1] else Verdict.DIFFERS
        rows.append(ComparisonRow(key, "reached", where[0], where[1], None, verdict))
        figures_a, figures_b = _figures(ra, metric), _figures(rb, metric)
        for name, fa in figures_a.items():
            fb = figures_b[name]
            if fa is None and fb is None:
                continue
            delta, versus = compare_figure(fa, fb) if fa and fb else (None, None)
            rows.append(ComparisonRow(key, name, fa, fb, delta, versus))
    return rows


@dataclass(frozen=True)
class ScreenAgreement:
    """Whether a bigger budget (B) confirms a smaller one's (A) selection and cuts.

    Attributes:
        selected_a: Run A's selected combo (``None`` when it selected none).
        selected_b: Run B's selected combo.
        cuts: Combos run A stopped at a tuning rung.
        reversed: Those that run B took further (a deeper rung, or the final).
    """

    selected_a: str | None
    selected_b: str | None
    cuts: tuple[str, ...]
    reversed: tuple[str, ...]

    def describe(self) -> str:
        """One line: the two selections and how many of A's cuts B reversed."""
        same = "the same combo" if self.selected_a == self.selected_b else "different combos"
        listed = f" ({', '.join(self.reversed)})" if self.reversed else ""
        return (
            f"A selected {self.selected_a or 'none'}, B {self.selected_b or 'none'}: {same}; "
            f"B took {len(self.reversed)} of A's {len(self.cuts)} cuts further{listed}."
        )


def _depth(r: ComboResult | None) -> int:
    """How far a combo got: its rung, the final beyond every rung, -1 if it failed or is absent."""
    if r is None or r.outcome is Outcome.FAILED:
        return -1
    return 1_000 if r.outcome.final else r.rung


def screen_agreement(a: Sequence[ComboResult], b: Sequence[ComboResult]) -> ScreenAgreement:
    """How run B's schedule judged the combos run A selected and cut (same combos assumed)."""
    in_b = {r.combo.key: r for r in b}
    chosen = {
        name: next((r.combo.key for r in run if r.outcome is Outcome.SELECTED), None)
        for name, run in (("a", a), ("b", b))
    }
    cuts = [r for r in a if r.outcome is Outcome.STOPPED]
    undone = [r.combo.key for r in cuts if _depth(in_b.get(r.combo.key)) > r.rung]
    return ScreenAgreement(
        chosen["a"], chosen["b"], tuple(r.combo.key for r in cuts), tuple(undone)
    )
