"""azsecmap: evaluate Azure resources against Azure Policy rules offline.

>>> import azsecmap
>>> azsecmap.evaluate_policy(
...     {"if": {"field": "location", "notIn": ["westeurope"]}, "then": {"effect": "deny"}},
...     {"type": "Microsoft.Web/sites", "location": "East US"},
... ).effect
'deny'
"""

from __future__ import annotations

# After the core names: these modules import them.
from . import outputs, report
from ._core import __version__
from .catalog import Catalog
from .diff import FindingsDiff, diff_results
from .errors import (
    AzsecmapError,
    CatalogError,
    EvaluationError,
    ExemptionError,
    PolicyError,
    ResourceError,
)
from .evaluation import Evaluation, EvaluationStream, evaluate, evaluate_batches
from .exemptions import Exemption, Exemptions
from .outputs import read_results, write_results
from .policy import AssignedPolicy, Assignment, Decision, Policy, PolicyPack, evaluate_policy
from .resource_graph import ResourceGraphError, RetryBudget
from .resources import LoadError, Resources
from .scan import ScanOutcome, run_scan

__all__ = [
    "AssignedPolicy",
    "Assignment",
    "AzsecmapError",
    "Catalog",
    "CatalogError",
    "Decision",
    "Evaluation",
    "EvaluationError",
    "EvaluationStream",
    "Exemption",
    "ExemptionError",
    "Exemptions",
    "FindingsDiff",
    "LoadError",
    "Policy",
    "PolicyError",
    "PolicyPack",
    "ResourceError",
    "ResourceGraphError",
    "Resources",
    "RetryBudget",
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
