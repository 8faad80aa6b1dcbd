"""Shared fixtures: where the public reference data lives, and the case corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "cases"


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
