"""`azsecmap frameworks list|show|import` and `azsecmap map`: output, the same answers as the
Python API, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from azsecmap import Catalog
from azsecmap.cli import app

FILES = Path(__file__).parent / "catalog_files"
runner = CliRunner()


@pytest.fixture(autouse=True)
def user_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "user-catalog"
    monkeypatch.setenv("AZSECMAP_CATALOG_DIR", str(d))
    monkeypatch.setenv("COLUMNS", "250")  # rich sizes its tables to the terminal
    return d


def test_frameworks_list() -> None:
    r = runner.invoke(app, ["frameworks", "list"])
    assert r.exit_code == 0, r.output
    for fw in ["MCSB_v1", "CIS_Azure_3.0.0", "NIST_SP_800-53_R5", "ISO_IEC_27001_2022"]:
        assert fw in r.output


def test_frameworks_show_and_tree() -> None:
    r = runner.invoke(app, ["frameworks", "show", "PCI_DSS_v4.0.1"])
    assert r.exit_code == 0, r.output
    assert "1.2.1" in r.output
    r = runner.invoke(app, ["frameworks", "show", "NIST_SP_800-53_R5", "--tree"])
    assert r.exit_code == 0
    assert "AC  Access Control" in r.output
    assert "AC-2(1)  Automated System Account Management" in r.output
    r = runner.invoke(app, ["frameworks", "show", "NOPE"])
    assert r.exit_code == 2
    assert "unknown framework `NOPE`" in r.output


def test_map_json_equals_the_python_api() -> None:
    r = runner.invoke(
        app, ["map", "PCI_DSS_v4.0.1:1.2.1", "--to", "NIST_SP_800-53_R5", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    api = Catalog.builtin().map("PCI_DSS_v4.0.1:1.2.1", to="NIST_SP_800-53_R5").to_dicts()
    assert rows == api
    assert rows and all(x["relationship"] == "shares_policy" for x in rows)
    assert all(x["published"] is False for x in rows)


def test_map_csv_and_table() -> None:
    r = runner.invoke(
        app,
        ["map", "MCSB_v1:NS-1", "--to", "NIST_SP_800-53_R5", "--format", "csv", "--published-only"],
    )
    assert r.exit_code == 0
    df = pl.read_csv(r.output.encode())
    assert set(df["relationship"]) == {"intersect"}
    assert df["path"].str.contains("NIST_SP_800-53_R4:").all()
    r = runner.invoke(app, ["map", "MCSB_v1:NS-1", "--to", "NIST_SP_800-53_R5"])
    assert r.exit_code == 0
    assert "NIST_SP_800-53_R5:AC-4" in r.output
    r = runner.invoke(app, ["map", "MCSB_v1:NOPE", "--to", "NIST_SP_800-53_R5"])
    assert r.exit_code == 2
    assert "unknown control `MCSB_v1:NOPE`" in r.output


def test_import_adds_to_the_builtin_catalog(user_catalog: Path) -> None:
    r = runner.invoke(app, ["frameworks", "import", str(FILES / "custom.yaml")])
    assert r.exit_code == 0, r.output
    stored = user_catalog / "custom.json"
    assert stored.is_file()
    assert json.loads(stored.read_text())["format"] == "azsecmap-catalog/1"
    assert "ACME_Cloud_v1" in Catalog.builtin().frameworks()["framework"].to_list()
    assert "ACME_Cloud_v1" not in Catalog.builtin(include_user=False).frameworks()["framework"]
    r = runner.invoke(
        app,
        ["map", "ACME_Cloud_v1:NET-1", "--to", "MCSB_v1", "--format", "json", "--published-only"],
    )
    assert json.loads(r.output)[0]["relationship"] == "subset"


def test_import_refuses_bad_files(user_catalog: Path) -> None:
    r = runner.invoke(app, ["frameworks", "import", str(FILES / "bad_relationship.csv")])
    assert r.exit_code == 2
    assert "bad_relationship.csv" in r.output and "line 2" in r.output
    r = runner.invoke(app, ["frameworks", "import", str(FILES / "cycle.json")])
    assert r.exit_code == 2
    assert "cycle" in r.output
    assert not user_catalog.exists() or not list(user_catalog.iterdir())


def test_import_crosswalk_csv(shared_data: Path, user_catalog: Path) -> None:
    src = shared_data / "crosswalks" / "cis_v8_to_nist_800_53_r5.csv"
    r = runner.invoke(app, ["frameworks", "import", str(src)])
    assert r.exit_code == 0, r.output
    df = Catalog.builtin().map("CIS_Controls_v8:3.3", to="NIST_SP_800-53_R5", max_hops=1)
    assert df.filter(published=True).height > 0


def test_crosswalk_and_graph_export(tmp_path: Path) -> None:
    out = tmp_path / "mcsb-nist.csv"
    r = runner.invoke(
        app, ["crosswalk", "MCSB_v1", "NIST_SP_800-53_R5", "--out", str(out), "--published-only"]
    )
    assert r.exit_code == 0, r.output
    df = pl.read_csv(out)
    api = Catalog.builtin().coverage("MCSB_v1", "NIST_SP_800-53_R5", include_derived=False)
    assert df.height == api.height == 85
    assert df["target"].to_list() == api["target"].to_list()
    gml = tmp_path / "g.graphml"
    r = runner.invoke(app, ["graph", "export", "--format", "graphml", "--out", str(gml)])
    assert r.exit_code == 0, r.output
    assert "framework:MCSB_v1" in gml.read_text()
    doc = tmp_path / "g.json"
    r = runner.invoke(app, ["graph", "export", "--format", "json", "--out", str(doc)])
    assert r.exit_code == 0
    assert Catalog.from_files(doc).document() == Catalog.builtin().document()
    r = runner.invoke(app, ["crosswalk", "MCSB_v1", "NOPE", "--out", str(out)])
    assert r.exit_code == 2


def test_import_initiative_with_definitions(shared_data: Path, user_catalog: Path) -> None:
    policy = shared_data / "azure-policy"
    src = policy / "policySetDefinitions/Regulatory Compliance/NIST_SP_800-171_R2.json"
    r = runner.invoke(
        app,
        ["frameworks", "import", str(src), "--definitions", str(policy / "policyDefinitions")],
    )
    assert r.exit_code == 0, r.output
    cat = Catalog.builtin()
    controls = cat.controls("NIST_SP_800-171_R2")
    assert controls.height == 110
    # the README counts 224 manual references in this initiative: some controls rest on them
    manual_only = controls.filter(
        (controls["policies"] > 0) & (controls["automated_policies"] == 0)
    )
    assert manual_only.height > 0
    assert set(manual_only["control"]) <= set(cat.unautomated("NIST_SP_800-171_R2")["control"])


def test_a_broken_user_file_names_itself(user_catalog: Path) -> None:
    user_catalog.mkdir(parents=True)
    (user_catalog / "broken.json").write_text('{"format": "azsecmap-catalog/1", "mappings": 3}')
    r = runner.invoke(app, ["frameworks", "list"])
    assert r.exit_code == 2
    assert "broken.json" in r.output and "/mappings" in r.output
