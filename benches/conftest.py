"""Shared pieces of the benchmark suite: the medians store and the ratio summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

_MEDIANS: dict[tuple[str, str], float] = {}


def _record(case: str, who: str, benchmark: Any) -> None:
    """Keep `benchmark`'s median in seconds (there is none under --benchmark-disable)."""
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        _MEDIANS[(case, who)] = stats.stats.median


@pytest.fixture
def record_median() -> Callable[[str, str, Any], None]:
    """`record_median(case, contender, benchmark)`, for the ratio summary at the end."""
    return _record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    cases = sorted({case for case, _ in _MEDIANS})
    if not cases:
        return
    tr = terminalreporter
    tr.section("azsecmap vs the pure-Python peer (medians)")
    for case in cases:
        got = {who: _MEDIANS[(c, who)] for c, who in _MEDIANS if c == case}
        parts = [f"{who} {sec * 1e6:.2f} us" for who, sec in sorted(got.items())]
        tr.write_line(f"{case}: " + ", ".join(parts))
        peer = got.get("peer")
        if peer:
            for who in ("policy.evaluate", "evaluate_policy"):
                if who in got:
                    tr.write_line(f"    {who} / peer = {got[who] / peer:.1f}x")
