"""Shared fixtures: where the public reference data lives, and the case corpus."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from azsecmap import Evaluation

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "cases"

#: The bundled frameworks: id -> (initiative file under azure-policy/policySetDefinitions,
#: group-name prefix). Restated here, independently of scripts/build_catalog.py, so that the
#: tests check the bundled catalog against Microsoft's initiatives rather than against itself.
INITIATIVES = {
    "MCSB_v1": ("Security Center/AzureSecurityCenter.json", "Azure_Security_Benchmark_v3.0_"),
    "CIS_Azure_2.0.0": ("Regulatory Compliance/CISv2_0_0.json", "CIS_Azure_2.0.0_"),
    "CIS_Azure_3.0.0": (
        "Regulatory Compliance/CIS_Azure_Foundations_v3.0.0.json",
        "CIS_Azure_Foundations_v3.0.0_",
    ),
    "CIS_Controls_v8.1": ("Regulatory Compliance/CIS_Controls_v8.1.json", "CIS_Controls_v8.1_"),
    "NIST_SP_800-53_R5": ("Regulatory Compliance/NIST_SP_800-53_R5.json", "NIST_SP_800-53_R5_"),
    "PCI_DSS_v4.0.1": ("Regulatory Compliance/PCI_DSS_v4.0.1.json", "PCI_DSS_v4.0.1_"),
    "ISO_IEC_27001_2022": ("Regulatory Compliance/ISO_IEC_27001_2022.json", "ISO_IEC_27001_2022_"),
}


def data_dir() -> Path | None:
    """`../shared/data` next to the checkout (or $AZSECMAP_DATA), when present."""
    d = Path(os.environ.get("AZSECMAP_DATA", REPO.parent / "shared" / "data"))
    return d if (d / "azure-policy").is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    d = data_dir()
    if d is None:
        pytest.skip("../shared/data is absent (set AZSECMAP_DATA to the public reference data)")
    return d


# The fake Resource Graph server needs azure-core (the `azure` extra, part of `test`): without it
# the module is not collected (its tests skip, naming the missing extra).
try:
    import azure.core  # noqa: F401
except ImportError:  # pragma: no cover - depends on the install
    collect_ignore = ["fake_arg.py"]


def evaluation_of(rows: list[tuple[str, str, str]]) -> Evaluation:
    """An Evaluation from (resource id, policy id, state) triples, in the results schema."""
    cat = pl.Categorical
    return Evaluation(
        results=pl.DataFrame(
            {
                "resource_id": [r for r, _, _ in rows],
                "resource_type": ["Microsoft.Foo/things"] * len(rows),
                "policy_id": [p for _, p, _ in rows],
                "state": [s for _, _, s in rows],
                "effect": ["audit"] * len(rows),
                "reason": [None] * len(rows),
            },
            schema={
                "resource_id": cat,
                "resource_type": cat,
                "policy_id": cat,
                "state": cat,
                "effect": cat,
                "reason": pl.String,
            },
        )
    )
