"""Whole-tenant benchmark (issue 3), pytest tier: N = 100,000 sample resources x pack (a).

Every contender runs its whole job from the files (the engine: compile the 25 definitions, load
and evaluate the NDJSON, build the Polars frame; each peer: its own parse and evaluation), and
every peer's per-policy non-compliant counts are asserted equal to azsecmap's. The 1,000,000
resource runs, peak RSS (one process per contender) and workload (b) are in the script:
`python -m benches.tenant.run --n 1000000 --workload a`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tenant import packs, run, worker

N = 100_000
ROUNDS = 3

pytestmark = pytest.mark.skipif(
    not packs.have_data(), reason=f"the built-in definitions are absent ({packs.DATA})"
)


@pytest.fixture(scope="module")
def tenant_path() -> Path:
    return run.tenant(N)


@pytest.fixture(scope="module")
def reference(tenant_path: Path) -> dict[str, int]:
    """azsecmap's per-policy non-compliant counts, the peers' yardstick."""
    counts: dict[str, int] = worker.run_one("azsecmap", str(tenant_path))["counts"]
    assert len(counts) == 25, "every policy of pack (a) finds something in the sample tenant"
    return counts


def _bench(benchmark: Any, who: str, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = benchmark.pedantic(
        worker.run_one, args=(who, str(path), "a"), rounds=ROUNDS, iterations=1
    )
    return out


CONTENDERS = ("azsecmap", "azsecmap_lean", "duckdb", "polars", "python")
FLOORS = ("read", "orjson", "polars_parse")


@pytest.mark.parametrize("who", CONTENDERS)
def test_tenant_100k_pack_a(
    benchmark: Any,
    who: str,
    tenant_path: Path,
    reference: dict[str, int],
    record_median: Callable[[str, str, Any], None],
) -> None:
    benchmark.group = "tenant 100k x pack (a)"
    out = _bench(benchmark, who, tenant_path)
    assert {k: v for k, v in out["counts"].items() if v} == reference
    record_median("tenant 100k x pack (a)", who, benchmark)


@pytest.mark.parametrize("who", FLOORS)
def test_tenant_100k_floor(
    benchmark: Any,
    who: str,
    tenant_path: Path,
    record_median: Callable[[str, str, Any], None],
) -> None:
    benchmark.group = "tenant 100k x pack (a)"
    out = _bench(benchmark, who, tenant_path)
    if who == "read":
        assert out["bytes"] == tenant_path.stat().st_size
    else:
        assert out["resources"] == N
    record_median("tenant 100k x pack (a)", who, benchmark)
