"""azsecmap: evaluate Azure resources against Azure Policy rules offline.

>>> import azsecmap
>>> azsecmap.evaluate_policy(
...     {"if": {"field": "location", "notIn": ["westeurope"]}, "then": {"effect": "deny"}},
...     {"type": "Microsoft.Web/sites", "location": "East US"},
... ).effect
'deny'
"""

from __future__ import annotations

from ._core import __version__
from .catalog import Catalog
from .errors import (
    AzsecmapError,
    CatalogError,
    EvaluationError,
    PolicyError,
    ResourceError,
)
from .evaluation import Evaluation, EvaluationStream, evaluate, evaluate_batches
from .policy import Decision, Policy, PolicyPack, evaluate_policy
from .resources import LoadError, Resources

# After the core names: these modules import them.
from . import outputs, report  # noqa: E402, I001
from .diff import FindingsDiff, diff_results  # noqa: E402
from .outputs import read_results, write_results  # noqa: E402
from .scan import ScanOutcome, run_scan  # noqa: E402

__all__ = [
    "AzsecmapError",
    "Catalog",
    "CatalogError",
    "Decision",
    "Evaluation",
    "EvaluationError",
    "EvaluationStream",
    "FindingsDiff",
    "LoadError",
    "Policy",
    "PolicyError",
    "PolicyPack",
    "ResourceError",
    "Resources",
    "ScanOutcome",
    "__version__",
    "diff_results",
    "evaluate",
    "evaluate_batches",
    "evaluate_policy",
    "outputs",
    "read_results",
    "report",
    "run_scan",
    "write_results",
]
