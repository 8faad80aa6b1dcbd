"""`azsecmap policy test POLICY RESOURCE [-p name=value] [--json]`: output and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from azsecmap.cli import app

LOCATION_POLICY = {
    "name": "allowed-locations",
    "properties": {
        "mode": "Indexed",
        "parameters": {
            "effect": {
                "type": "String",
                "allowedValues": ["Audit", "Deny", "Disabled"],
                "defaultValue": "Audit",
            },
            "locations": {"type": "Array", "defaultValue": ["westeurope"]},
        },
        "policyRule": {
            "if": {"field": "location", "notIn": "[parameters('locations')]"},
            "then": {"effect": "[parameters('effect')]"},
        },
    },
}

SITE = {
    "id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Web/sites/web1",
    "type": "Microsoft.Web/sites",
    "name": "web1",
    "location": "eastus",
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    policy = tmp_path / "allowed-locations.json"
    policy.write_text(json.dumps(LOCATION_POLICY))
    resource = tmp_path / "web1.json"
    resource.write_text(json.dumps(SITE))
    return policy, resource


def run(*args: Any) -> Any:
    return CliRunner().invoke(app, ["policy", "test", *map(str, args)])


def assert_input_error(result: Any, file: Path | None) -> str:
    """Exit 2 and exactly one `error: …` line on stderr (naming `file` when given)."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    if file is not None:
        assert str(file) in lines[0], lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    return str(lines[0])


def test_prints_matched_effect_reasons(files: tuple[Path, Path]) -> None:
    policy, resource = files
    result = run(policy, resource)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "matched: yes" in out
    assert "effect:  audit" in out
    assert "reasons:" in out
    reason_lines = [line for line in out.splitlines() if line.startswith("  - ")]
    assert len(reason_lines) == 1
    assert "location" in reason_lines[0]
    assert "eastus" in reason_lines[0]
    assert result.stderr == ""


def test_not_matched(files: tuple[Path, Path], tmp_path: Path) -> None:
    policy, _ = files
    resource = tmp_path / "in-region.json"
    resource.write_text(json.dumps({**SITE, "location": "westeurope"}))
    result = run(policy, resource)
    assert result.exit_code == 0, result.stderr
    assert "matched: no" in result.stdout
    assert "effect:  -" in result.stdout


def test_json_output(files: tuple[Path, Path]) -> None:
    policy, resource = files
    result = run(policy, resource, "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"matched", "effect", "reasons", "applicable", "note"} <= set(out)
    assert out["matched"] is True
    assert out["effect"] == "audit"
    assert out["applicable"] is True
    (reason,) = out["reasons"]
    assert reason["path"] == "location"
    assert reason["actual"] == "eastus"
    assert reason["operator"] == "notIn"
    assert reason["expected"] == ["westeurope"]
    assert reason["pointer"] == "/properties/policyRule/if"


def test_param_changes_effect(files: tuple[Path, Path]) -> None:
    policy, resource = files
    result = run(policy, resource, "-p", "effect=Deny", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["effect"] == "deny"
    # a disabled policy is not evaluated (as in Azure): no match, and a note says why
    result = run(policy, resource, "--param", "effect=Disabled")
    assert result.exit_code == 0, result.stderr
    assert "matched: no" in result.stdout
    assert "effect:  -" in result.stdout
    assert "note:" in result.stdout and "disabled" in result.stdout


def test_param_json_array(files: tuple[Path, Path]) -> None:
    policy, resource = files
    result = run(policy, resource, "-p", 'locations=["eastus", "westus"]', "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["matched"] is False
    assert out["effect"] is None
    result = run(policy, resource, "-p", 'locations=["westus"]', "-p", "effect=Deny", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["matched"], out["effect"]) == (True, "deny")


def test_missing_policy_file(tmp_path: Path, files: tuple[Path, Path]) -> None:
    _, resource = files
    missing = tmp_path / "no-such-policy.json"
    assert_input_error(run(missing, resource), missing)


def test_missing_resource_file(tmp_path: Path, files: tuple[Path, Path]) -> None:
    policy, _ = files
    missing = tmp_path / "no-such-resource.json"
    assert_input_error(run(policy, missing), missing)


def test_malformed_policy_json(tmp_path: Path, files: tuple[Path, Path]) -> None:
    _, resource = files
    bad = tmp_path / "a-rather-long-file-name-for-a-malformed-policy-definition.json"
    bad.write_text('{"properties": {"policyRule": ')
    line = assert_input_error(run(bad, resource), bad)
    assert "json" in line.lower()


def test_malformed_resource_json(tmp_path: Path, files: tuple[Path, Path]) -> None:
    policy, _ = files
    bad = tmp_path / "resource-with-broken-json.json"
    bad.write_text("{'single': 'quotes'}")
    assert_input_error(run(policy, bad), bad)


def test_policy_with_unknown_operator(tmp_path: Path, files: tuple[Path, Path]) -> None:
    _, resource = files
    bad = tmp_path / "unknown-op.json"
    bad.write_text(json.dumps({"if": {"field": "name", "bogus": 1}, "then": {"effect": "audit"}}))
    line = assert_input_error(run(bad, resource), bad)
    assert "/if/bogus" in line


@pytest.mark.parametrize(
    ("param", "needle"),
    [
        ("effect=Nope", "/parameters/effect"),
        ("effect=audit", "/parameters/effect"),  # allowedValues are case-sensitive
        ("locations=westeurope", "/parameters/locations"),  # not an array
        ("undeclared=1", "/parameters/undeclared"),
    ],
)
def test_bad_parameter(files: tuple[Path, Path], param: str, needle: str) -> None:
    policy, resource = files
    line = assert_input_error(run(policy, resource, "-p", param), policy)
    assert needle in line


def test_malformed_param_option(files: tuple[Path, Path]) -> None:
    policy, resource = files
    line = assert_input_error(run(policy, resource, "-p", "no-equals-sign"), None)
    assert "name=value" in line


def test_console_script_subprocess(files: tuple[Path, Path]) -> None:
    exe = Path(sys.executable).parent / "azsecmap"
    script = str(exe) if exe.exists() else shutil.which("azsecmap")
    assert script, "the `azsecmap` console script is not installed next to the interpreter"
    policy, resource = files
    ok = subprocess.run(
        [script, "policy", "test", str(policy), str(resource), "-p", "effect=Deny", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert (out["matched"], out["effect"]) == (True, "deny")

    bad = subprocess.run(
        [script, "policy", "test", str(policy) + ".missing", str(resource)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2, (bad.returncode, bad.stderr)
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1, bad.stderr
    assert lines[0].startswith("error: ")
    assert str(policy) + ".missing" in lines[0]
    assert bad.stdout == ""


def secure_transfer_definition(data: Path) -> Path:
    """The audit definition "Secure transfer to storage accounts should be enabled"."""
    found = []
    for f in sorted((data / "azure-policy" / "policyDefinitions" / "Storage").glob("*.json")):
        text = f.read_text(encoding="utf-8")
        if "supportsHttpsTrafficOnly" not in text:
            continue
        props = json.loads(text)["properties"]
        if props.get("displayName") == "Secure transfer to storage accounts should be enabled":
            found.append(f)
    assert len(found) == 1, found
    return found[0]


def test_builtin_secure_transfer(shared_data: Path) -> None:
    policy = secure_transfer_definition(shared_data)
    resource = (
        shared_data
        / "arm-resources"
        / "Microsoft.Storage"
        / "storageAccounts"
        / "storage-get-properties.json"
    )
    result = run(policy, resource)
    assert result.exit_code == 0, result.stderr
    assert "matched: yes" in result.stdout
    assert "effect:  audit" in result.stdout
    reasons = [line for line in result.stdout.splitlines() if line.startswith("  - ")]
    assert any("supportsHttpsTrafficOnly" in r for r in reasons), result.stdout

    result = run(policy, resource, "--json", "-p", "effect=Deny")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["matched"], out["effect"]) == (True, "deny")
    assert any(r["path"] == "properties.supportsHttpsTrafficOnly" for r in out["reasons"])
