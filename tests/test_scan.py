"""`azsecmap scan` end to end, as a CI pipeline runs it: a subprocess, exit codes, files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from azsecmap.cli.exit_codes import ExitCode
from azsecmap.outputs import read_results


def azsecmap_exe() -> str:
    exe = Path(sys.executable).parent / "azsecmap"
    found = str(exe) if exe.exists() else shutil.which("azsecmap")
    assert found, "the `azsecmap` console script is not installed"
    return found


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [azsecmap_exe(), *args], capture_output=True, text=True, timeout=600, cwd=cwd
    )


def test_scan_with_no_arguments(tmp_path: Path) -> None:
    start = time.monotonic()
    r = run("scan", cwd=tmp_path)
    elapsed = time.monotonic() - start
    assert r.returncode == ExitCode.OK, r.stderr
    out = r.stdout
    assert "Framework scores" in out
    for fw in ("MCSB_v1", "NIST_SP_800-53_R5", "PCI_DSS_v4.0.1", "CIS_Azure_3.0.0"):
        assert fw in out
    assert "Top 10 failing policies" in out
    assert "scanned 3,000 resources" in out
    report = tmp_path / "azsecmap-report.html"
    assert report.is_file()
    text = report.read_text()
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") >= 5
    # A debug build on a shared machine is slower than a release wheel; still interactive.
    assert elapsed < 120, elapsed


def test_scan_fail_on_non_compliant(tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    r = run(
        "scan",
        "--sample",
        "500",
        "--fail-on",
        "non_compliant",
        "--no-report",
        "--out",
        str(out),
        "-f",
        "MCSB_v1",
        cwd=tmp_path,
    )
    assert r.returncode == ExitCode.FINDINGS, r.stderr
    assert "non_compliant or worse" in r.stdout
    df = read_results(out)
    assert (df["state"] == "non_compliant").any()
    assert not (tmp_path / "azsecmap-report.html").exists()


def test_scan_fail_on_error_passes_when_nothing_errors(tmp_path: Path) -> None:
    r = run(
        "scan",
        "--sample",
        "300",
        "--fail-on",
        "error",
        "--no-report",
        "-f",
        "MCSB_v1",
        cwd=tmp_path,
    )
    assert r.returncode == ExitCode.OK, r.stderr


def test_scan_resources_file_and_formats(tmp_path: Path) -> None:
    tenant = tmp_path / "tenant.ndjson"
    assert run("sample", "--resources", "400", "--out", str(tenant), cwd=tmp_path).returncode == 0
    sarif = tmp_path / "scan.sarif"
    r = run(
        "scan",
        "--resources",
        str(tenant),
        "--out",
        str(sarif),
        "--report",
        str(tmp_path / "r.html"),
        "-f",
        "NIST_SP_800-53_R5",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    log = json.loads(sarif.read_text())
    assert log["version"] == "2.1.0" and log["runs"][0]["results"]
    assert "scanned 400 resources" in r.stdout
    ocsf = tmp_path / "findings.out"
    r = run(
        "scan",
        "--resources",
        str(tenant),
        "--out",
        str(ocsf),
        "--format",
        "ocsf-ndjson",
        "--no-report",
        "-f",
        "MCSB_v1",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    first = json.loads(ocsf.read_text().splitlines()[0])
    assert first["class_uid"] == 2003


def test_scan_policies_dir(tmp_path: Path) -> None:
    pol = tmp_path / "policies"
    pol.mkdir()
    (pol / "kv.json").write_text(
        json.dumps(
            {
                "if": {"field": "type", "equals": "Microsoft.KeyVault/vaults"},
                "then": {"effect": "audit"},
            }
        )
    )
    out = tmp_path / "r.csv"
    r = run(
        "scan",
        "--sample",
        "300",
        "--policies",
        str(pol),
        "--out",
        str(out),
        "--no-report",
        "-f",
        "MCSB_v1",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    df = pl.read_csv(out)
    assert df["policy_id"].unique().to_list() == ["kv"]


def one_error_line(r: subprocess.CompletedProcess[str], needle: str) -> str:
    assert r.returncode == ExitCode.INPUT_ERROR, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("kind", ["missing", "garbage", "bad_json"])
def test_scan_bad_resources_exit_2(tmp_path: Path, kind: str) -> None:
    path = (
        tmp_path / {"missing": "nope.ndjson", "garbage": "junk.ndjson", "bad_json": "x.json"}[kind]
    )
    if kind == "garbage":
        path.write_text("this is not json\nneither is this\n")
    elif kind == "bad_json":
        path.write_text('[{"id": ')
    r = run("scan", "--resources", str(path), "--no-report", cwd=tmp_path)
    one_error_line(r, str(path))


def test_scan_bad_policy_and_framework_exit_2(tmp_path: Path) -> None:
    pol = tmp_path / "policies"
    pol.mkdir()
    bad = pol / "broken.json"
    bad.write_text('{"if": {"field": "name", "bogus": 1}, "then": {"effect": "audit"}}')
    one_error_line(
        run("scan", "--sample", "10", "--policies", str(pol), "--no-report", cwd=tmp_path), str(bad)
    )
    one_error_line(
        run("scan", "--sample", "10", "-f", "NOPE_1", "--no-report", cwd=tmp_path), "NOPE_1"
    )
    one_error_line(
        run("scan", "--sample", "10", "--out", str(tmp_path / "x.txt"), cwd=tmp_path), "x.txt"
    )


def test_every_command_help_has_an_example(tmp_path: Path) -> None:
    for cmd in (
        ["scan"],
        ["report"],
        ["diff"],
        ["sample"],
        ["policy", "test"],
        ["map"],
        ["frameworks", "show"],
        ["frameworks", "list"],
        ["crosswalk"],
    ):
        r = run(*cmd, "--help", cwd=tmp_path)
        assert r.returncode == 0, (cmd, r.stderr)
        assert "Example" in r.stdout, (cmd, r.stdout)
        assert f"azsecmap {' '.join(cmd)}" in r.stdout, (cmd, r.stdout)
