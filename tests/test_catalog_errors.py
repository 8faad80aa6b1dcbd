"""Malformed framework files: every error is a CatalogError naming the file and where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from azsecmap import Catalog, CatalogError
from azsecmap.importers import read_crosswalk_text, read_document

FILES = Path(__file__).parent / "catalog_files"


def error_of(path: Path) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        Catalog.from_files(path)
    return info.value


def test_csv_line_with_missing_field() -> None:
    e = error_of(FILES / "bad_fields.csv")
    assert e.file == str(FILES / "bad_fields.csv")
    assert e.pointer == "line 3"
    assert "expected 6 fields, found 5" in e.message
    assert "bad_fields.csv" in str(e) and "line 3" in str(e)


def test_csv_unknown_relationship() -> None:
    e = error_of(FILES / "bad_relationship.csv")
    assert e.pointer == "line 2"
    assert "unknown relationship `Equivalent`" in e.message


def test_csv_strength_out_of_range() -> None:
    e = error_of(FILES / "bad_strength.csv")
    assert e.pointer == "line 2"
    assert "strength `1.5`" in e.message


def test_csv_missing_columns_and_bad_quoting() -> None:
    with pytest.raises(CatalogError) as info:
        read_crosswalk_text("source_framework,target_framework\nA,B\n", "x.csv")
    assert info.value.pointer == "line 1"
    assert "`source_control`" in info.value.message
    text = (
        "source_framework,source_control,target_framework,target_control,relationship,provenance\n"
        'A,1,B,2,equal,x\nA,"2,B,3,equal,x\n'
    )
    with pytest.raises(CatalogError) as info:
        read_crosswalk_text(text, "q.csv")
    assert info.value.file == "q.csv"
    assert info.value.pointer is not None and info.value.pointer.startswith("line ")


def test_schema_violation_names_the_json_path() -> None:
    e = error_of(FILES / "bad_schema.yaml")
    assert e.file == str(FILES / "bad_schema.yaml")
    assert e.pointer == "/mappings/1/relationship"
    assert "schema violation" in e.message and "roughly" in e.message


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        ({"format": "azsecmap-catalog/2"}, "/format"),
        ({"format": "azsecmap-catalog/1", "frameworks": [{"title": "x"}]}, "/frameworks/0"),
        (
            {"format": "azsecmap-catalog/1", "frameworks": [{"id": "A:B"}]},
            "/frameworks/0/id",
        ),
        (
            {"format": "azsecmap-catalog/1", "satisfies": [{"policy": "p", "control": "AC-2"}]},
            "/satisfies/0/control",
        ),
        (
            {
                "format": "azsecmap-catalog/1",
                "mappings": [
                    {"source": "A:1", "target": "B:1", "relationship": "equal", "strength": 2}
                ],
            },
            "/mappings/0/strength",
        ),
        ({"format": "azsecmap-catalog/1", "controls": []}, ""),
    ],
)
def test_schema_violations(tmp_path: Path, doc: dict[str, object], pointer: str) -> None:
    f = tmp_path / "doc.json"
    f.write_text(json.dumps(doc))
    e = error_of(f)
    assert e.pointer == pointer
    assert e.file == str(f)


def test_rust_side_errors_become_catalog_errors() -> None:
    e = error_of(FILES / "cycle.json")
    assert "cycle" in e.message
    assert e.file is not None


def test_initiative_with_undeclared_group() -> None:
    e = error_of(FILES / "initiative_undeclared_group.json")
    assert e.pointer == "/properties/policyDefinitions/1/groupNames/0"
    assert "`EX_9.9`" in e.message


def test_unrecognised_and_unreadable_files(tmp_path: Path) -> None:
    f = tmp_path / "thing.json"
    f.write_text('{"hello": 1}')
    assert "not a catalog document" in error_of(f).message
    f.write_text("{not json")
    e = error_of(f)
    assert "invalid JSON" in e.message and "line 1" in e.message
    y = tmp_path / "thing.yaml"
    y.write_text("format: [unclosed\n")
    assert "invalid YAML" in error_of(y).message
    with pytest.raises(CatalogError, match="cannot read"):
        read_document(tmp_path / "missing.csv")
