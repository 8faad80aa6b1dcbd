"""Time the roll-up, the framework scores and exemptions on a sample tenant.

    python scripts/measure_scoring.py [N]     # N resources (default 100000)

Evaluates the built-in definitions behind the NIST SP 800-53 R5, PCI DSS v4.0.1 and CIS Azure
3.0.0 initiatives from ../shared/data (or $AZSECMAP_DATA) on ``Resources.sample(N)`` and
prints the best of three runs of each call. Figures are recorded in docs/scoring.md.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

import azsecmap

INITIATIVES = (
    "NIST_SP_800-53_R5.json",
    "PCI_DSS_v4.0.1.json",
    "CIS_Azure_Foundations_v3.0.0.json",
)
FRAMEWORKS = ("NIST_SP_800-53_R5", "PCI_DSS_v4.0.1", "CIS_Azure_3.0.0")


def pack_of_initiatives(data: Path) -> azsecmap.PolicyPack:
    sets = data / "azure-policy" / "policySetDefinitions" / "Regulatory Compliance"
    wanted = {
        ref["policyDefinitionId"].rsplit("/", 1)[-1].lower()
        for name in INITIATIVES
        for ref in json.loads((sets / name).read_text("utf-8"))["properties"]["policyDefinitions"]
    }
    files = [
        f
        for f in sorted((data / "azure-policy" / "policyDefinitions").rglob("*.json"))
        if str(json.loads(f.read_text("utf-8")).get("name", "")).lower() in wanted
    ]
    return azsecmap.PolicyPack.from_files(files, skip_invalid=True)


def timed(label: str, call: Callable[[], Any], repeat: int = 3) -> Any:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - start)
    print(f"{label:52s} {best * 1000:9.1f} ms")
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    root = Path(__file__).resolve().parent.parent
    data = Path(os.environ.get("AZSECMAP_DATA", root.parent / "shared" / "data"))
    pack = pack_of_initiatives(data)
    start = time.perf_counter()
    ev = azsecmap.evaluate(pack, azsecmap.Resources.sample(n), now="2026-05-01T00:00:00Z")
    took = time.perf_counter() - start
    print(f"evaluate {len(pack)} policies x {n} resources: {took:.1f} s, {ev.results.height} rows")
    cat = azsecmap.Catalog.builtin(include_user=False)
    for fw in FRAMEWORKS:
        timed(f"score {fw}", lambda fw=fw: ev.score(cat, fw))
    timed("summary PCI_DSS_v4.0.1", lambda: ev.summary(cat, "PCI_DSS_v4.0.1"))
    split = timed(
        "score PCI_DSS_v4.0.1 by=resource_group",
        lambda: ev.score(cat, "PCI_DSS_v4.0.1", by="resource_group"),
    )
    print(f"{'':52s} {split.height} rows")
    timed(
        "summary PCI_DSS_v4.0.1 by=subscription",
        lambda: ev.summary(cat, "PCI_DSS_v4.0.1", by="subscription"),
    )
    timed(
        "score NIST_SP_800-53_R5 via=MCSB_v1",
        lambda: ev.score(cat, "NIST_SP_800-53_R5", via="MCSB_v1"),
        repeat=1,
    )
    ids = ev.results["resource_id"].cast(pl.String)
    subs = ids.str.extract(r"^(/subscriptions/[^/]+)").drop_nulls().unique().sort().to_list()
    policies = ev.results["policy_id"].cast(pl.String).unique().sort().to_list()
    objects = [
        {
            "id": f"{sub}/providers/Microsoft.Authorization/policyExemptions/e{i}",
            "properties": {
                "policyAssignmentId": f"{sub}/providers/Microsoft.Authorization/"
                "policyAssignments/regulatory",
                "exemptionCategory": "Waiver",
                "policyDefinitionReferenceIds": policies[i % len(policies) :][:3],
            },
        }
        for i, sub in enumerate(subs * 10)
    ]
    ex = azsecmap.Exemptions.from_azure(objects)
    applied = timed(
        f"with_exemptions ({len(ex)} exemptions)",
        lambda: ev.with_exemptions(ex, now="2026-05-01T00:00:00Z"),
    )
    print(f"{'':52s} {(applied.results['state'] == 'exempt').sum()} rows exempt")


if __name__ == "__main__":
    main()
