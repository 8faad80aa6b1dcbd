"""The Python boundary, end to end, beside the peer a policy author would otherwise write.

Run on a release build of the extension::

    maturin develop --release -q
    pytest benches --benchmark-only

Three ways to decide one (policy, resource) pair:

- ``evaluate_policy(dict, dict)``: the one-call API (compiles, binds, evaluates, converts);
- ``Policy.from_json`` once, then ``policy.evaluate(dict)`` per resource;
- a hand-written pure-Python function implementing the same rule (the peer).

The peers are checked against the engine on matching and non-matching resources before any
timing, so the comparison is between two implementations of the same rule. The ratio of the
medians is printed at the end of the run (see ``conftest.py``).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import azsecmap
from azsecmap import Policy

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("AZSECMAP_DATA", ROOT.parent / "shared" / "data"))

# ---- the storage-account secure-transfer rule ------------------------------------------

# The built-in "Secure transfer to storage accounts should be enabled" (Audit/Deny/Disabled),
# copied here so the bench runs without the shared data; the file is used when present.
_SECURE_TRANSFER_FILE = DATA.joinpath(
    "azure-policy/policyDefinitions/Storage/Storage_AuditForHTTPSEnabled_Audit.json"
)
_HTTPS_ONLY = "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly"
_SECURE_TRANSFER_EMBEDDED: dict[str, Any] = {
    "properties": {
        "mode": "Indexed",
        "parameters": {
            "effect": {
                "type": "string",
                "defaultValue": "Audit",
                "allowedValues": ["Audit", "Deny", "Disabled"],
            }
        },
        "policyRule": {
            "if": {
                "allOf": [
                    {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                    {
                        "anyOf": [
                            {
                                "allOf": [
                                    {
                                        "value": "[requestContext().apiVersion]",
                                        "less": "2019-04-01",
                                    },
                                    {
                                        "field": _HTTPS_ONLY,
                                        "exists": "false",
                                    },
                                ]
                            },
                            {
                                "field": _HTTPS_ONLY,
                                "equals": "false",
                            },
                        ]
                    },
                ]
            },
            "then": {"effect": "[parameters('effect')]"},
        },
    }
}


def _secure_transfer_policy() -> dict[str, Any]:
    if _SECURE_TRANSFER_FILE.is_file():
        doc: dict[str, Any] = json.loads(_SECURE_TRANSFER_FILE.read_text(encoding="utf-8"))
        return doc
    return _SECURE_TRANSFER_EMBEDDED


_RG = "/subscriptions/sub1/resourceGroups/rg1"
_STORAGE_FILE = (
    DATA / "arm-resources" / "Microsoft.Storage" / "storageAccounts" / "storage-get-properties.json"
)


def _storage_account(https_only: bool | None) -> dict[str, Any]:
    if _STORAGE_FILE.is_file():
        doc: dict[str, Any] = json.loads(_STORAGE_FILE.read_text(encoding="utf-8"))
    else:
        doc = {
            "id": f"{_RG}/providers/Microsoft.Storage/storageAccounts/sto1",
            "name": "sto1",
            "type": "Microsoft.Storage/storageAccounts",
            "location": "eastus2",
            "kind": "StorageV2",
            "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False},
        }
    doc = copy.deepcopy(doc)
    props = doc.setdefault("properties", {})
    if https_only is None:
        props.pop("supportsHttpsTrafficOnly", None)
    else:
        props["supportsHttpsTrafficOnly"] = https_only
    return doc


_MISSING = object()


def secure_transfer_peer(resource: dict[str, Any], api_version: str = "2099-12-31") -> str | None:
    """The rule by hand: the effect when the account allows plain HTTP, else None."""
    if str(resource.get("type", "")).lower() != "microsoft.storage/storageaccounts":
        return None
    props = resource.get("properties")
    value = props.get("supportsHttpsTrafficOnly", _MISSING) if isinstance(props, dict) else _MISSING
    if value is _MISSING:
        matched = api_version < "2019-04-01"
    else:
        # `equals "false"` matches the boolean and the string, case-insensitively.
        matched = value is False or (isinstance(value, str) and value.lower() == "false")
    return "audit" if matched else None


# ---- an NSG rule with `[*]` --------------------------------------------------------------

NSG_ANY_SOURCE_RULE: dict[str, Any] = {
    "properties": {
        "displayName": "NSG rules should not allow any source address",
        "mode": "All",
        "policyRule": {
            "if": {
                "allOf": [
                    {"field": "type", "equals": "Microsoft.Network/networkSecurityGroups"},
                    {
                        "not": {
                            "field": "Microsoft.Network/networkSecurityGroups/securityRules[*]"
                            ".sourceAddressPrefix",
                            "notEquals": "*",
                        }
                    },
                ]
            },
            "then": {"effect": "audit"},
        },
    }
}


def nsg_any_source_peer(resource: dict[str, Any]) -> str | None:
    """The rule by hand: audit when some security rule's source prefix is ``*``."""
    if str(resource.get("type", "")).lower() != "microsoft.network/networksecuritygroups":
        return None
    props = resource.get("properties")
    rules = props.get("securityRules") if isinstance(props, dict) else None
    if not isinstance(rules, list):
        return None  # no members: `[*] notEquals` holds vacuously, so the `not` is false
    for rule in rules:
        rp = rule.get("properties") if isinstance(rule, dict) else None
        prefix = rp.get("sourceAddressPrefix") if isinstance(rp, dict) else None
        if isinstance(prefix, str) and prefix.lower() == "*":
            return "audit"
    return None


def nsg_with_rules(n: int, open_rule: int | None = None) -> dict[str, Any]:
    """An NSG with ``n`` rules; rule ``open_rule`` (if any) comes from ``*``."""
    base = f"{_RG}/providers/Microsoft.Network/networkSecurityGroups/nsg1"
    rules = [
        {
            "name": f"rule{i}",
            "id": f"{base}/securityRules/rule{i}",
            "properties": {
                "protocol": "Tcp",
                "sourcePortRange": "*",
                "destinationPortRange": str(1000 + i),
                "sourceAddressPrefix": "*" if i == open_rule else f"10.0.{i}.0/24",
                "destinationAddressPrefix": "*",
                "access": "Allow" if i % 2 == 0 else "Deny",
                "priority": 100 + i,
                "direction": "Inbound",
            },
        }
        for i in range(n)
    ]
    return {
        "id": base,
        "name": "nsg1",
        "type": "Microsoft.Network/networkSecurityGroups",
        "location": "westeurope",
        "properties": {"securityRules": rules},
    }


# ---- the timings --------------------------------------------------------------------------

if TYPE_CHECKING:
    Peer = Callable[[dict[str, Any]], str | None]

CASES: list[tuple[str, dict[str, Any], Peer, list[dict[str, Any]]]] = [
    (
        "storage-secure-transfer",
        _secure_transfer_policy(),
        secure_transfer_peer,
        [_storage_account(False), _storage_account(True), _storage_account(None)],
    ),
    (
        "nsg-any-source-50",
        NSG_ANY_SOURCE_RULE,
        nsg_any_source_peer,
        [nsg_with_rules(50, open_rule=49), nsg_with_rules(50), nsg_with_rules(0)],
    ),
]
CASE_IDS = [c[0] for c in CASES]


def _check_agreement(compiled: Policy, peer: Peer, resources: list[dict[str, Any]]) -> None:
    """The peer and the engine give the same effect on matching and non-matching resources."""
    outcomes = [compiled.evaluate(r).effect for r in resources]
    assert outcomes == [peer(r) for r in resources]
    assert outcomes[0] is not None, "the timed resource must match (the full rule runs)"
    assert any(o is None for o in outcomes)


@pytest.mark.parametrize(("name", "policy", "peer", "resources"), CASES, ids=CASE_IDS)
def test_evaluate_policy_one_call(
    name: str,
    policy: dict[str, Any],
    peer: Peer,
    resources: list[dict[str, Any]],
    benchmark: Any,
    record_median: Callable[[str, str, Any], None],
) -> None:
    """`azsecmap.evaluate_policy(dict, dict)`: compile, bind and evaluate on every call."""
    _check_agreement(Policy.from_json(policy), peer, resources)
    benchmark.group = f"{name}: evaluate_policy per call"
    d = benchmark(azsecmap.evaluate_policy, policy, resources[0])
    assert d.effect == peer(resources[0])
    record_median(name, "evaluate_policy", benchmark)


@pytest.mark.parametrize(("name", "policy", "peer", "resources"), CASES, ids=CASE_IDS)
def test_compiled_policy_evaluate(
    name: str,
    policy: dict[str, Any],
    peer: Peer,
    resources: list[dict[str, Any]],
    benchmark: Any,
    record_median: Callable[[str, str, Any], None],
) -> None:
    """`Policy.from_json` once, then `policy.evaluate(dict)` per resource."""
    compiled = Policy.from_json(policy)
    _check_agreement(compiled, peer, resources)
    benchmark.group = f"{name}: compiled once vs pure-Python peer"
    d = benchmark(compiled.evaluate, resources[0])
    assert d.effect == peer(resources[0])
    record_median(name, "policy.evaluate", benchmark)


@pytest.mark.parametrize(("name", "policy", "peer", "resources"), CASES, ids=CASE_IDS)
def test_pure_python_peer(
    name: str,
    policy: dict[str, Any],
    peer: Peer,
    resources: list[dict[str, Any]],
    benchmark: Any,
    record_median: Callable[[str, str, Any], None],
) -> None:
    """The hand-written function, on the same resource."""
    _check_agreement(Policy.from_json(policy), peer, resources)
    benchmark.group = f"{name}: compiled once vs pure-Python peer"
    effect = benchmark(peer, resources[0])
    assert effect is not None
    record_median(name, "peer", benchmark)


def test_policy_from_json(benchmark: Any) -> None:
    """Compiling one definition from a dict (JSON dump, parse, compile)."""
    policy = _secure_transfer_policy()
    p = benchmark(Policy.from_json, policy)
    assert p.default_effect == "audit"
