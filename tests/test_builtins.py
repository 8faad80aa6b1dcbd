"""Microsoft's built-in policy definitions (../shared/data/azure-policy) through the public API.

A corpus-wide smoke test of the compiler and evaluator: every definition compiles, every
evaluable one runs on every real ARM resource document without raising.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from azsecmap import EvaluationError, Policy, PolicyError, PolicyPack

TOTAL_DEFINITIONS = 3_594  # ../shared/data/README.md
DATA_PLANE_DEFINITIONS = 134  # resource-provider modes, README.md
ARM_RESOURCE_DOCUMENTS = 28
NOW = "2026-05-01T00:00:00Z"


def definitions_dir(data: Path) -> Path:
    return data / "azure-policy" / "policyDefinitions"


def is_all_or_indexed(doc: dict[str, Any]) -> bool:
    """Mode All or Indexed, in any case; no mode (the static definitions) means All."""
    mode = doc["properties"].get("mode")
    return mode is None or str(mode).lower() in ("all", "indexed")


@pytest.fixture(scope="session")
def definition_docs(shared_data: Path) -> list[tuple[Path, dict[str, Any]]]:
    files = sorted(definitions_dir(shared_data).rglob("*.json"))
    return [(f, json.loads(f.read_text(encoding="utf-8"))) for f in files]


@pytest.fixture(scope="session")
def pack(shared_data: Path) -> PolicyPack:
    return PolicyPack.from_dir(definitions_dir(shared_data), skip_invalid=True)


@pytest.fixture(scope="session")
def arm_resources(shared_data: Path) -> list[tuple[str, str]]:
    """(relative file, JSON text) of each ARM resource document (not the Resource Graph samples)."""
    root = shared_data / "arm-resources"
    files = sorted(
        f for f in root.rglob("*.json") if not f.name.startswith("resource-graph-sample")
    )
    return [(f.relative_to(root).as_posix(), f.read_text(encoding="utf-8")) for f in files]


def test_every_all_or_indexed_definition_compiles(
    definition_docs: list[tuple[Path, dict[str, Any]]],
) -> None:
    failures = []
    compiled = 0
    for f, doc in definition_docs:
        if not is_all_or_indexed(doc):
            continue
        try:
            p = Policy.from_json(doc)
        except PolicyError as exc:
            failures.append(f"{f.parent.name}/{f.name}: {exc}")
            continue
        compiled += 1
        assert p.id == doc["name"], f
        assert p.mode_supported, f
    print(f"compiled {compiled} All/Indexed built-in definitions")
    assert not failures, f"{len(failures)} failed:\n" + "\n".join(failures)
    assert compiled == TOTAL_DEFINITIONS - DATA_PLANE_DEFINITIONS


def test_pack_loads_the_whole_tree(
    pack: PolicyPack, definition_docs: list[tuple[Path, dict[str, Any]]]
) -> None:
    assert [str(e) for e in pack.errors] == []
    assert len(pack) == TOTAL_DEFINITIONS
    # ids are the definitions' GUID names, in sorted file order
    assert pack.ids() == [doc["name"] for _, doc in definition_docs]
    assert len(set(pack.ids())) == TOTAL_DEFINITIONS


def test_data_plane_definitions_are_recognised_not_evaluated(
    pack: PolicyPack, definition_docs: list[tuple[Path, dict[str, Any]]]
) -> None:
    data_plane = {doc["name"] for _, doc in definition_docs if not is_all_or_indexed(doc)}
    assert len(data_plane) == DATA_PLANE_DEFINITIONS
    unsupported = {p.id for p in pack if not p.mode_supported}
    assert unsupported == data_plane
    for p in pack:
        if p.id in data_plane:
            assert p.mode.lower().endswith(".data"), p
    some = pack[sorted(data_plane)[0]]
    with pytest.raises(PolicyError) as info:
        some.evaluate({"type": "Microsoft.KeyVault/vaults", "name": "kv"})
    assert info.value.pointer == "/properties/mode"
    assert info.value.file == some.source


def test_modes_are_normalised(pack: PolicyPack) -> None:
    # 7 definitions spell the mode `indexed`; all read as Indexed
    modes = {p.mode for p in pack if p.mode_supported}
    assert modes == {"All", "Indexed"}


def test_secure_transfer_on_real_storage_accounts(
    pack: PolicyPack, arm_resources: list[tuple[str, str]]
) -> None:
    policy = pack["404c3081-a854-4457-ae30-26a93ef643f9"]
    assert policy.display_name == "Secure transfer to storage accounts should be enabled"
    docs = dict(arm_resources)
    for name in (
        "Microsoft.Storage/storageAccounts/storage-get-properties.json",
        "Microsoft.Storage/storageAccounts/storage-get-properties-cmk.json",
    ):
        d = policy.evaluate(docs[name], now=NOW)
        assert (d.matched, d.effect) == (True, "audit"), (name, d.reasons)
        assert any("supportsHttpsTrafficOnly" in r for r in d.reasons)
    d = policy.evaluate(docs["Microsoft.KeyVault/vaults/vault-get.json"], now=NOW)
    assert (d.matched, d.effect) == (False, None)


def test_every_evaluable_definition_runs_on_every_arm_resource(
    pack: PolicyPack, arm_resources: list[tuple[str, str]]
) -> None:
    assert len(arm_resources) == ARM_RESOURCE_DOCUMENTS
    evaluable = [
        p
        for p in pack
        if p.mode_supported and all(param["default"] is not None for param in p.parameters)
    ]
    errors: list[str] = []
    pairs = matched = 0
    for policy in evaluable:
        for name, text in arm_resources:
            pairs += 1
            try:
                d = policy.evaluate(text, now=NOW)
            except EvaluationError as exc:
                errors.append(f"{Path(policy.source or '').name} on {name}: {exc}")
                continue
            matched += d.matched
            assert d.effect is None or d.effect == d.effect.lower(), (policy, name)
            assert d.matched == (d.effect is not None) or not d.applicable, (policy, name)
    print(f"{len(evaluable)} definitions x {len(arm_resources)} resources: {pairs} pairs")
    print(f"{matched} matched, {len(errors)} evaluation errors")
    assert not errors, f"{len(errors)} evaluation errors:\n" + "\n".join(errors[:100])
    assert matched > 0
