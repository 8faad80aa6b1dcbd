"""`azsecmap.diff.diff_results` and `azsecmap diff OLD NEW`."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import azsecmap
from azsecmap.cli import app
from azsecmap.diff import diff_results
from azsecmap.outputs import read_results, write_results

POLICY = {
    "name": "https-only",
    "properties": {
        "displayName": "Storage accounts accept HTTPS only",
        "policyRule": {
            "if": {
                "allOf": [
                    {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                    {
                        "field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly",
                        "notEquals": True,
                    },
                ]
            },
            "then": {"effect": "audit"},
        },
    },
}


def account(name: str, https: bool) -> dict[str, object]:
    return {
        "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/"
        + name,
        "name": name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": "westeurope",
        "properties": {"supportsHttpsTrafficOnly": https},
    }


def scan(states: dict[str, bool]) -> azsecmap.Evaluation:
    pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(POLICY)])
    return azsecmap.evaluate(
        pack, azsecmap.Resources.from_records([account(n, h) for n, h in states.items()])
    )


@pytest.fixture
def scans() -> tuple[azsecmap.Evaluation, azsecmap.Evaluation]:
    # a: fixed; b: still failing; c: newly failing; d: compliant throughout.
    old = scan({"a": False, "b": False, "c": True, "d": True})
    new = scan({"a": True, "b": False, "c": False, "d": True, "e": True})
    return old, new


def test_new_fixed_unchanged(scans: tuple[azsecmap.Evaluation, azsecmap.Evaluation]) -> None:
    d = diff_results(*scans)
    assert d.counts() == {"new": 1, "fixed": 1, "unchanged": 1}
    assert d.new["resource_id"].str.ends_with("/c").all()
    assert d.fixed["resource_id"].str.ends_with("/a").all()
    assert d.unchanged["resource_id"].str.ends_with("/b").all()
    assert d.frame["policy_id"].unique().to_list() == ["https-only"]
    assert d.frame.columns == ["change", "resource_id", "policy_id", "resource_type", "reason"]
    assert d.frame["change"].to_list() == ["new", "fixed", "unchanged"]
    # Reversing the order swaps new and fixed.
    assert diff_results(scans[1], scans[0]).counts() == {"new": 1, "fixed": 1, "unchanged": 1}
    assert diff_results(scans[1], scans[0]).new["resource_id"].str.ends_with("/a").all()


def test_same_scan_has_no_changes(scans: tuple[azsecmap.Evaluation, azsecmap.Evaluation]) -> None:
    assert diff_results(scans[0], scans[0]).counts() == {"new": 0, "fixed": 0, "unchanged": 2}


def test_duplicate_rows_count_once() -> None:
    df = pl.DataFrame(
        {"resource_id": ["r", "r"], "policy_id": ["p", "p"], "state": ["non_compliant"] * 2}
    )
    assert diff_results(df.head(0), df).counts() == {"new": 1, "fixed": 0, "unchanged": 0}


runner = CliRunner()


@pytest.mark.parametrize(
    ("old_ext", "new_ext"), [(".parquet", ".csv"), (".ndjson", ".sarif"), (".json", ".ocsf.json")]
)
def test_cli_diff_across_formats(
    tmp_path: Path,
    scans: tuple[azsecmap.Evaluation, azsecmap.Evaluation],
    old_ext: str,
    new_ext: str,
) -> None:
    old, new = tmp_path / f"old{old_ext}", tmp_path / f"new{new_ext}"
    write_results(scans[0], old)
    write_results(scans[1], new)
    out = tmp_path / "changes.csv"
    r = runner.invoke(app, ["diff", str(old), str(new), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "1 new, 1 fixed, 1 unchanged" in r.output
    changes = read_results_like(out)
    assert sorted(changes["change"].to_list()) == ["fixed", "new", "unchanged"]

    r = runner.invoke(app, ["diff", str(old), str(new), "--fail-on-new"])
    assert r.exit_code == 1, r.output
    r = runner.invoke(app, ["diff", str(new), str(new), "--fail-on-new"])
    assert r.exit_code == 0, r.output


def read_results_like(path: Path) -> pl.DataFrame:
    return pl.read_csv(path)


def test_cli_diff_json_out(
    tmp_path: Path, scans: tuple[azsecmap.Evaluation, azsecmap.Evaluation]
) -> None:
    old, new = tmp_path / "old.parquet", tmp_path / "new.parquet"
    write_results(scans[0], old)
    write_results(scans[1], new)
    out = tmp_path / "changes.json"
    assert runner.invoke(app, ["diff", str(old), str(new), "-o", str(out)]).exit_code == 0
    rows = json.loads(out.read_text())
    assert {r["change"] for r in rows} == {"new", "fixed", "unchanged"}
    assert read_results(old).height == scans[0].results.height


def test_cli_diff_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.parquet"
    bad.write_text("nope")
    ok = tmp_path / "ok.csv"
    ok.write_text("resource_id,policy_id,state\n")
    r = runner.invoke(app, ["diff", str(bad), str(ok)])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(bad) in lines[0]
