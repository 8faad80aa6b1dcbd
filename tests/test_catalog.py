"""The control catalog: the bundled data checked against the public sources, queries,
exports and the importers on real files."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

import azsecmap
from azsecmap import Catalog, CatalogError
from azsecmap.importers import read_document, read_initiative, read_oscal

from .conftest import INITIATIVES

FILES = Path(__file__).parent / "catalog_files"


BUNDLED_CROSSWALKS = [
    "mcsb_v1.csv",
    "mcsb_v2.csv",
    "nist_800_53_r4_to_r5.csv",
    "nist_csf_1_1_to_nist_800_53_r5.csv",
    "nist_csf_2_0_to_nist_800_53_r5.csv",
]


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return Catalog.builtin(include_user=False)


@pytest.fixture(scope="module")
def graph(cat: Catalog) -> nx.DiGraph:
    return cat.to_networkx()


def initiative_facts(data: Path, fw: str) -> tuple[set[str], set[tuple[str, str]]]:
    """Controls and (policy node, control node) pairs read straight from the initiative."""
    rel, prefix = INITIATIVES[fw]
    props = json.loads((data / "azure-policy/policySetDefinitions" / rel).read_text())["properties"]
    controls = set()
    for g in props["policyDefinitionGroups"]:
        assert g["name"].startswith(prefix)
        controls.add(f"{fw}:{g['name'][len(prefix) :]}")
    edges = set()
    for ref in props["policyDefinitions"]:
        guid = ref["policyDefinitionId"].split("/")[-1]
        for gname in ref.get("groupNames") or []:
            edges.add((f"policy:{guid}", f"{fw}:{gname[len(prefix) :]}"))
    return controls, edges


# --- the bundled catalog against the public data -------------------------------------------


@pytest.mark.parametrize("fw", sorted(INITIATIVES))
def test_bundled_controls_and_satisfies_equal_the_initiative(
    shared_data: Path, graph: nx.DiGraph, cat: Catalog, fw: str
) -> None:
    controls, edges = initiative_facts(shared_data, fw)
    in_graph = {
        n for n, d in graph.nodes(data=True) if d["kind"] == "control" and d["framework"] == fw
    }
    assert in_graph == controls
    sat = {
        (u, v)
        for u, v, d in graph.edges(data=True)
        if d["kind"] == "satisfies" and graph.nodes[v]["framework"] == fw
    }
    assert sat == edges
    row = cat.frameworks().filter(framework=fw).row(0, named=True)
    assert row["satisfies"] == len(edges)
    assert row["controls"] == len(controls)
    assert row["declared"] is True


def test_satisfies_edges_carry_initiative_and_version(shared_data: Path, graph: nx.DiGraph) -> None:
    rel, _ = INITIATIVES["PCI_DSS_v4.0.1"]
    props = json.loads((shared_data / "azure-policy/policySetDefinitions" / rel).read_text())[
        "properties"
    ]
    attrs = [
        d
        for u, v, d in graph.edges(data=True)
        if d["kind"] == "satisfies" and v.startswith("PCI_DSS_v4.0.1:")
    ]
    assert {(a["initiative"], a["version"]) for a in attrs} == {
        (props["displayName"], props["version"])
    }
    assert all(a["effect"] for a in attrs)


def test_nist_titles_come_from_oscal(shared_data: Path, cat: Catalog) -> None:
    titles: dict[str, str] = {}
    for f in sorted((shared_data / "oscal").glob("*resolved-profile_catalog*.json")):
        fw = read_oscal(json.loads(f.read_text()), str(f))["frameworks"][0]
        titles.update({c["id"]: c["title"] for c in fw["controls"]})
    controls = cat.controls("NIST_SP_800-53_R5").filter(kind="control")
    titled = controls.filter(controls["title"].is_not_null())
    assert titled.height == len(set(controls["id"]) & set(titles))
    for cid, title in titled.select("id", "title").iter_rows():
        assert titles[cid] == title
    fams = cat.controls("NIST_SP_800-53_R5", include_families=True).filter(kind="family")
    assert fams.filter(id="AC")["title"].to_list() == ["Access Control"]


def test_bundled_mappings_are_the_bundleable_crosswalks(shared_data: Path, cat: Catalog) -> None:
    expected = Counter()
    for name in BUNDLED_CROSSWALKS:
        with open(shared_data / "crosswalks" / name, newline="") as f:
            for row in csv.DictReader(f):
                key = (
                    f"{row['source_framework']}:{row['source_control']}",
                    f"{row['target_framework']}:{row['target_control']}",
                    row["relationship"],
                )
                expected[key] += 1
    got = Counter((m["source"], m["target"], m["relationship"]) for m in cat.document()["mappings"])
    assert got == expected
    # the CIS workbooks (CC BY-NC-ND) are not redistributed
    fws = {m["source"].split(":")[0] for m in cat.document()["mappings"]}
    assert "CIS_Controls_v8" not in fws


def test_no_copied_text_beyond_ids(cat: Catalog) -> None:
    doc = cat.document()
    for fw in doc["frameworks"]:
        if fw["id"] != "NIST_SP_800-53_R5":
            assert all("title" not in c for c in fw.get("controls", []))
    assert all(set(p) <= {"id", "effect"} for p in doc["policies"])


# --- queries ---------------------------------------------------------------------------------


def test_pci_to_nist_gives_flagged_derived_paths(cat: Catalog) -> None:
    df = cat.map("PCI_DSS_v4.0.1:1.2.1", to="NIST_SP_800-53_R5")
    assert df.height > 0
    # No published crosswalk starts at PCI DSS v4.0.1, so every row is derived and says so.
    for row in df.iter_rows(named=True):
        assert row["published"] is False
        assert row["relationship"] == "shares_policy"
        assert row["path"][0] == "PCI_DSS_v4.0.1:1.2.1"
        assert row["path"][-1] == row["target"]
        assert row["target"].startswith("NIST_SP_800-53_R5:")
        assert row["shared_policies"]
        assert "derived, not a published mapping" in row["evidence"]
        assert len(row["provenance"]) == row["hops"] == len(row["path"]) - 1
    assert df["strength"].is_sorted(descending=True)


def test_mcsb_reaches_rev5_through_rev4(cat: Catalog) -> None:
    df = cat.map("MCSB_v1:NS-1", to="NIST_SP_800-53_R5", include_derived=False)
    assert df.height > 0
    for row in df.iter_rows(named=True):
        assert row["published"] is True
        assert row["hops"] == 2
        assert row["path"][1].startswith("NIST_SP_800-53_R4:")
        assert row["relationship"] in {"equal", "subset", "superset", "intersect"}
        # MCSB states no set relationship (intersect), which absorbs whatever follows
        assert row["relationship"] == "intersect"
    direct = cat.map("MCSB_v1:NS-1", to="NIST_SP_800-53_R5", max_hops=1, include_derived=False)
    assert direct.is_empty()


def test_rev4_to_rev5_keeps_published_relationship(cat: Catalog) -> None:
    df = cat.map("NIST_SP_800-53_R4:AC-2", to="NIST_SP_800-53_R5", include_derived=False)
    top = df.row(0, named=True)
    assert top["target"] == "NIST_SP_800-53_R5:AC-2"
    assert top["hops"] == 1
    # walking the same edge backwards from Rev 5 gives the reversed relationship
    back = cat.map(top["target"], to="NIST_SP_800-53_R4", max_hops=1, include_derived=False)
    rev = {"subset": "superset", "superset": "subset"}
    back_row = back.filter(target="NIST_SP_800-53_R4:AC-2").row(0, named=True)
    assert back_row["relationship"] == rev.get(top["relationship"], top["relationship"])


def test_shares_policy_is_never_a_published_mapping(cat: Catalog, graph: nx.DiGraph) -> None:
    for control in ["CIS_Controls_v8.1:3.3", "PCI_DSS_v4.0.1:1.2.1", "MCSB_v1:DP-3"]:
        for fw in ["NIST_SP_800-53_R5", "PCI_DSS_v4.0.1", "CIS_Controls_v8.1"]:
            if control.startswith(fw):
                continue
            df = cat.map(control, to=fw)
            for row in df.iter_rows(named=True):
                assert (row["relationship"] == "shares_policy") == (not row["published"])
            published = df.filter(published=True)
            assert not (set(published["target"]) & set(df.filter(published=False)["target"]))
    kinds = {d["kind"] for _, _, d in graph.edges(data=True)}
    assert kinds == {"contains", "satisfies", "maps_to"}
    assert all(
        d["relationship"] in {"equal", "subset", "superset", "intersect"}
        for _, _, d in graph.edges(data=True)
        if d["kind"] == "maps_to"
    )
    derived = cat.to_networkx(include_derived=True)
    shares = [d for _, _, d in derived.edges(data=True) if d["kind"] == "shares_policy"]
    assert shares and all(d["published"] is False for d in shares)


def test_coverage_and_unautomated(cat: Catalog) -> None:
    cov = cat.coverage("MCSB_v1", "NIST_SP_800-53_R5", include_derived=False)
    assert cov.height == cat.controls("MCSB_v1").height == 85
    assert cov.filter(cov["target"].is_not_null())["published"].all()
    un = cat.unautomated("PCI_DSS_v4.0.1")
    controls = cat.controls("PCI_DSS_v4.0.1")
    expected = set(controls.filter(automated_policies=0)["control"])
    assert set(un["control"]) == expected
    assert expected  # PCI 3.6.1.3 has no policy at all in the initiative


def test_errors_are_catalog_errors(cat: Catalog) -> None:
    with pytest.raises(CatalogError, match=r"unknown control `PCI_DSS_v4\.0\.1:99\.99`"):
        cat.map("PCI_DSS_v4.0.1:99.99", to="NIST_SP_800-53_R5")
    with pytest.raises(CatalogError, match="unknown framework `NOPE`"):
        cat.map("MCSB_v1:NS-1", to="NOPE")
    with pytest.raises(CatalogError, match="FRAMEWORK:CONTROL"):
        cat.map("NS-1", to="NIST_SP_800-53_R5")
    with pytest.raises(CatalogError, match="unknown framework"):
        cat.controls("NOPE")


# --- exports ---------------------------------------------------------------------------------


def test_networkx_node_ids_and_attributes(graph: nx.DiGraph) -> None:
    assert graph.nodes["framework:NIST_SP_800-53_R5"]["kind"] == "framework"
    assert graph.nodes["NIST_SP_800-53_R5:AC-2"]["kind"] == "control"
    assert graph.nodes["NIST_SP_800-53_R5:AC"]["kind"] == "family"
    assert graph.nodes["NIST_SP_800-53_R4:AC-2"]["kind"] == "external_control"
    policy = "policy:0a075868-4c26-42ef-914c-5bc007359560"
    assert graph.nodes[policy]["kind"] == "policy"
    assert graph.has_edge(policy, "MCSB_v1:DP-7")
    assert graph.edges[policy, "MCSB_v1:DP-7"]["kind"] == "satisfies"
    assert graph.edges["NIST_SP_800-53_R5:AC", "NIST_SP_800-53_R5:AC-2"]["kind"] == "contains"
    assert graph.edges["NIST_SP_800-53_R5:AC-2", "NIST_SP_800-53_R5:AC-2(1)"]["kind"] == "contains"
    assert graph.has_edge("framework:NIST_SP_800-53_R5", "NIST_SP_800-53_R5:AC")
    e = graph.edges["MCSB_v1:NS-1", "NIST_SP_800-53_R4:AC-4"]
    assert e["kind"] == "maps_to"
    assert e["relationship"] == "intersect"
    assert 0 < e["strength"] <= 1
    assert "Microsoft_cloud_security_benchmark_v1.xlsx" in e["source"]
    # every declared control hangs under its framework through `contains`
    for n, d in graph.nodes(data=True):
        if d["kind"] == "control":
            assert nx.has_path(graph, f"framework:{d['framework']}", n)


def test_json_round_trip_and_graphml(tmp_path: Path, cat: Catalog) -> None:
    out = tmp_path / "catalog.json"
    cat.to_json(out)
    again = Catalog.from_files(out)
    assert again.document() == cat.document()
    assert again.frameworks().equals(cat.frameworks())
    gml = tmp_path / "catalog.graphml"
    small = Catalog.from_files(FILES / "custom.yaml")
    small.to_graphml(gml)
    back = nx.read_graphml(gml)
    assert set(back.nodes) == set(small.to_networkx().nodes)
    assert back.nodes["ACME_Cloud_v1:NET-1(a)"]["kind"] == "control"


# --- importers on real files ---------------------------------------------------------------


def test_initiative_importer_on_an_unbundled_initiative(shared_data: Path) -> None:
    f = shared_data / "azure-policy/policySetDefinitions/Regulatory Compliance"
    f = f / "CIS_Azure_Foundations_v2.1.0.json"
    cat = Catalog.from_files(f)
    row = cat.frameworks().row(0, named=True)
    assert row["framework"] == "CIS_Azure_2.1.0"
    props = json.loads(f.read_text())["properties"]
    assert row["controls"] == len(props["policyDefinitionGroups"])
    pairs = {
        (r["policyDefinitionId"].split("/")[-1], g)
        for r in props["policyDefinitions"]
        for g in r.get("groupNames") or []
    }
    assert row["satisfies"] == len(pairs)


def test_every_regulatory_initiative_imports(shared_data: Path) -> None:
    folder = shared_data / "azure-policy/policySetDefinitions/Regulatory Compliance"
    files = sorted(folder.glob("*.json"))
    seen = set()
    for f in files:
        doc = read_initiative(json.loads(f.read_text()), str(f))
        fw = doc["frameworks"][0]["id"]
        assert ":" not in fw and fw
        seen.add(fw)
    assert {"NIST_SP_800-53_R5", "PCI_DSS_v4.0.1", "CIS_Controls_v8.1"} <= seen
    # group names without a `<PREFIX>_` keep their whole name under the file's stem
    assert "Spain_ENS" in seen
    everything = Catalog.from_files(files)
    assert set(everything.frameworks()["framework"]) == seen


def test_oscal_importer(shared_data: Path) -> None:
    f = shared_data / "oscal/NIST_SP-800-53_rev5_LOW-baseline-resolved-profile_catalog-min.json"
    doc = read_document(f)
    fw = doc["frameworks"][0]
    assert fw["id"] == "NIST_SP_800-53_R5"
    assert len(fw["controls"]) == 149
    cat = Catalog.from_files(f)
    controls = cat.controls("NIST_SP_800-53_R5")
    ac2 = controls.filter(id="AC-2").row(0, named=True)
    assert ac2["title"] == "Account Management"
    assert ac2["parent"] == "NIST_SP_800-53_R5:AC"
    enh = controls.filter(controls["id"].str.contains(r"\(")).row(0, named=True)
    assert enh["depth"] == 3


def test_cis_workbook_crosswalk_is_importable(shared_data: Path) -> None:
    f = shared_data / "crosswalks/cis_v8_to_nist_800_53_r5.csv"
    cat = Catalog.from_files(f, bundled=True)
    with open(f, newline="") as fh:
        rows = list(csv.DictReader(fh))
    equal = next(r for r in rows if r["relationship"] == "equal")
    src = f"CIS_Controls_v8:{equal['source_control']}"
    df = cat.map(src, to="NIST_SP_800-53_R5", max_hops=1, include_derived=False)
    hit = df.filter(target=f"NIST_SP_800-53_R5:{equal['target_control']}").row(0, named=True)
    assert hit["relationship"] == "equal"
    assert hit["strength"] == 1.0
    assert "CIS_Controls_v8_Mapping_to_NIST_SP_800_53_Rev_5" in hit["provenance"][0]


def test_custom_yaml_format() -> None:
    cat = Catalog.from_files(FILES / "custom.yaml", bundled=True)
    controls = cat.controls("ACME_Cloud_v1", include_families=True)
    by_id = {r["id"]: r for r in controls.iter_rows(named=True)}
    assert by_id["NET-1(a)"]["parent"] == "ACME_Cloud_v1:NET-1"
    assert by_id["NET"]["kind"] == "family"
    assert by_id["NET"]["title"] == "Network"
    assert by_id["ID"]["kind"] == "family"  # implied by ID-1
    assert list(cat.unautomated("ACME_Cloud_v1")["control"]) == [
        "ACME_Cloud_v1:NET-1",
        "ACME_Cloud_v1:ID-1",
    ]
    df = cat.map("ACME_Cloud_v1:NET-1", to="NIST_SP_800-53_R5", max_hops=3, include_derived=False)
    assert df.height > 0
    assert all(p[1] == "MCSB_v1:NS-2" for p in df["path"])
    assert df["strength"].max() == pytest.approx(0.9 * 0.5 * 1.0)


def test_version_is_exported() -> None:
    assert azsecmap.Catalog is Catalog


def test_bundled_catalog_is_reproducible_from_the_data(shared_data: Path) -> None:
    """`scripts/build_catalog.py` rebuilt from the shared data gives exactly what is bundled."""
    import importlib.util

    script = Path(__file__).resolve().parent.parent / "scripts" / "build_catalog.py"
    spec = importlib.util.spec_from_file_location("build_catalog", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt, _summary = module.build(shared_data)
    bundled = json.loads(azsecmap._core.CatalogGraph.bundled_json())
    assert rebuilt == bundled


def test_shares_policy_pairs_between_cis_and_pci(shared_data: Path, cat: Catalog) -> None:
    """DESIGN.md: the initiatives link CIS Controls 8.1 and PCI 4.0.1 through shared
    policies; those pairs are derived `shares_policy` edges, counted from the raw files."""
    _, cis_edges = initiative_facts(shared_data, "CIS_Controls_v8.1")
    _, pci_edges = initiative_facts(shared_data, "PCI_DSS_v4.0.1")
    by_policy: dict[str, set[str]] = {}
    for p, c in pci_edges:
        by_policy.setdefault(p, set()).add(c)
    pairs = {(c, q) for p, c in cis_edges for q in by_policy.get(p, ())}
    assert len({p for p, _ in cis_edges} & set(by_policy)) == 142
    derived = cat.to_networkx(include_derived=True)
    got = {
        tuple(sorted((u, v)))
        for u, v, d in derived.edges(data=True)
        if d["kind"] == "shares_policy"
        and {u.split(":")[0], v.split(":")[0]} == {"CIS_Controls_v8.1", "PCI_DSS_v4.0.1"}
    }
    assert got == {tuple(sorted(p)) for p in pairs}
    assert len(got) == 1576


# --- the default rule pack's own control edges ------------------------------------------------


def test_with_pack_adds_exactly_the_controls_each_rule_declares(cat: Catalog) -> None:
    """`with_pack` adds one `satisfies` edge per control a rule declares, with the pack as
    provenance; the catalog it came from keeps only the initiatives' edges."""
    pack = azsecmap.PolicyPack.builtin()
    meta = pack.metadata().explode("controls").drop_nulls("controls")
    want = {(f"policy:{p}", c) for p, c in meta.select("policy_id", "controls").iter_rows()}
    ours = cat.with_pack(pack).to_networkx()
    got = {
        (u, v)
        for u, v, d in ours.edges(data=True)
        if d["kind"] == "satisfies" and d["initiative"] == azsecmap.catalog.PACK_PROVENANCE
    }
    assert len(want) > 500
    assert got == want
    before = cat.to_networkx()
    assert not any(u.startswith("policy:azsecmap-") for u in before.nodes)


def test_with_pack_rejects_a_control_the_catalog_lacks(cat: Catalog, tmp_path: Path) -> None:
    rule = {
        "name": "bogus-control",
        "properties": {
            "mode": "All",
            "metadata": {"azsecmap": {"controls": ["NIST_SP_800-53_R5:ZZ-99"]}},
            "policyRule": {"if": {"field": "type", "equals": "x"}, "then": {"effect": "audit"}},
        },
    }
    f = tmp_path / "bogus.json"
    f.write_text(json.dumps(rule))
    with pytest.raises(azsecmap.CatalogError) as info:
        cat.with_pack(azsecmap.PolicyPack.from_files([f]))
    assert "ZZ-99" in info.value.message and "bogus-control" in info.value.message
