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
from .resource_graph import ResourceGraphError, RetryBudget
from .resources import LoadError, Resources

__all__ = [
    "AzsecmapError",
    "Catalog",
    "CatalogError",
    "Decision",
    "Evaluation",
    "EvaluationError",
    "EvaluationStream",
    "LoadError",
    "Policy",
    "PolicyError",
    "PolicyPack",
    "ResourceError",
    "ResourceGraphError",
    "Resources",
    "RetryBudget",
    "__version__",
    "evaluate",
    "evaluate_batches",
    "evaluate_policy",
]
