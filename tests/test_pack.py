"""`PolicyPack`: loading definition files and directories, ids, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from azsecmap import Policy, PolicyError, PolicyPack


def definition(name: str | None, effect: str = "audit", **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "properties": {
            "displayName": f"display {name}",
            "mode": "Indexed",
            "policyRule": {
                "if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                "then": {"effect": effect},
            },
            **extra,
        }
    }
    if name is not None:
        doc["name"] = name
    return doc


BARE_RULE = {"if": {"field": "location", "equals": "eastus"}, "then": {"effect": "deny"}}


def write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


def test_single_definition_file_named_by_name(tmp_path: Path) -> None:
    f = write(tmp_path / "secure.json", definition("404c3081-a854-4457-ae30-26a93ef643f9"))
    pack = PolicyPack.from_files([f])
    assert len(pack) == 1
    assert pack.ids() == ["404c3081-a854-4457-ae30-26a93ef643f9"]
    (p,) = list(pack)
    assert isinstance(p, Policy)
    assert p.source == str(f)
    assert p.mode == "Indexed"
    assert p.default_effect == "audit"
    assert p.display_name == "display 404c3081-a854-4457-ae30-26a93ef643f9"
    assert pack.errors == []


def test_file_without_name_is_named_by_stem(tmp_path: Path) -> None:
    a = write(tmp_path / "no-name.json", definition(None))
    b = write(tmp_path / "bare-rule.json", BARE_RULE)
    c = write(tmp_path / "props-only.json", definition(None)["properties"])
    pack = PolicyPack.from_files([a, b, str(c)])
    assert pack.ids() == ["no-name", "bare-rule", "props-only"]


def test_file_holding_a_list(tmp_path: Path) -> None:
    f = write(
        tmp_path / "several.json",
        [definition("first"), definition(None, "deny"), BARE_RULE, definition("last")],
    )
    pack = PolicyPack.from_files([f])
    assert pack.ids() == ["first", "several#1", "several#2", "last"]
    assert [p.default_effect for p in pack] == ["audit", "deny", "deny", "audit"]
    assert all(p.source == str(f) for p in pack)


def test_bad_item_in_a_list_is_located(tmp_path: Path) -> None:
    bad = definition("bad")
    bad["properties"]["policyRule"]["if"] = {"field": "type", "bogus": 1}
    f = write(tmp_path / "list.json", [definition("ok"), bad])
    with pytest.raises(PolicyError) as info:
        PolicyPack.from_files([f])
    assert info.value.file == str(f)
    assert info.value.pointer == "/1/properties/policyRule/if/bogus"


def test_from_dir_is_recursive_and_sorted(tmp_path: Path) -> None:
    write(tmp_path / "b" / "z.json", definition("bz"))
    write(tmp_path / "a.json", definition(None))
    write(tmp_path / "b" / "a.json", definition("ba"))
    write(tmp_path / "c" / "d" / "e" / "deep.json", BARE_RULE)
    write(tmp_path / "b" / "notes.txt", "not a policy")
    write(tmp_path / "b" / "readme.md", "# not a policy")
    pack = PolicyPack.from_dir(tmp_path)
    assert pack.ids() == ["a", "ba", "bz", "deep"]
    assert [Path(p.source or "").relative_to(tmp_path).as_posix() for p in pack] == [
        "a.json",
        "b/a.json",
        "b/z.json",
        "c/d/e/deep.json",
    ]
    # str paths work too
    assert PolicyPack.from_dir(str(tmp_path)).ids() == pack.ids()


def test_from_dir_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        PolicyPack.from_dir(tmp_path / "missing")
    assert info.value.file == str(tmp_path / "missing")
    f = write(tmp_path / "file.json", BARE_RULE)
    with pytest.raises(PolicyError):
        PolicyPack.from_dir(f)


def test_empty_dir(tmp_path: Path) -> None:
    pack = PolicyPack.from_dir(tmp_path)
    assert len(pack) == 0
    assert pack.ids() == []
    assert list(pack) == []
    assert pack.errors == []


@pytest.mark.parametrize(
    ("content", "pointer"),
    [
        ('{"if": ', ""),
        (json.dumps({"if": {"field": "name", "bogus": 1}, "then": {"effect": "audit"}}), None),
        (json.dumps({"properties": {"mode": "All"}}), None),
        ("[1, 2]", "/0"),
    ],
    ids=["malformed", "unknown-operator", "no-rule", "list-of-non-objects"],
)
def test_bad_file_raises_naming_it(tmp_path: Path, content: str, pointer: str | None) -> None:
    good = write(tmp_path / "good.json", definition("good"))
    bad = write(tmp_path / "bad.json", content)
    with pytest.raises(PolicyError) as info:
        PolicyPack.from_files([good, bad])
    assert info.value.file == str(bad)
    assert "\n" not in str(info.value)
    if pointer is not None:
        assert info.value.pointer == pointer


def test_bad_utf8_file_raises_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"if": {"field": "name", "equals": "caf\xe9"}, "then": {"effect": "audit"}}')
    with pytest.raises(PolicyError) as info:
        PolicyPack.from_dir(tmp_path)
    assert info.value.file == str(bad)


def test_skip_invalid_keeps_the_rest(tmp_path: Path) -> None:
    write(tmp_path / "1-good.json", definition("one"))
    write(tmp_path / "2-malformed.json", "{")
    write(tmp_path / "3-good.json", [definition("three"), definition(None)])
    write(tmp_path / "4-unknown-op.json", {"if": {"field": "x", "zz": 1}, "then": {"effect": "a"}})
    write(tmp_path / "5-good.json", BARE_RULE)
    (tmp_path / "6-latin1.json").write_bytes(b'{"name": "\xe9"}')
    pack = PolicyPack.from_dir(tmp_path, skip_invalid=True)
    assert pack.ids() == ["one", "three", "3-good#1", "5-good"]
    assert len(pack) == 4
    assert sorted(Path(e.file or "").name for e in pack.errors) == [
        "2-malformed.json",
        "4-unknown-op.json",
        "6-latin1.json",
    ]
    assert all(isinstance(e, PolicyError) for e in pack.errors)
    assert repr(pack) == "PolicyPack(4 policies, 3 errors)"
    # the strict load fails on the first bad file, in sorted order
    with pytest.raises(PolicyError) as info:
        PolicyPack.from_dir(tmp_path)
    assert Path(info.value.file or "").name == "2-malformed.json"


def test_skip_invalid_with_a_bad_list_item_drops_the_file(tmp_path: Path) -> None:
    bad = definition("bad")
    bad["properties"]["policyRule"]["then"] = {}
    f = write(tmp_path / "mixed.json", [definition("ok"), bad])
    g = write(tmp_path / "other.json", definition("other"))
    pack = PolicyPack.from_files([f, g], skip_invalid=True)
    assert "other" in pack.ids()
    assert len(pack.errors) == 1
    assert pack.errors[0].file == str(f)
    assert (pack.errors[0].pointer or "").startswith("/1")


def test_getitem_and_iteration(tmp_path: Path) -> None:
    f = write(tmp_path / "many.json", [definition("a"), definition("b", "deny"), definition("c")])
    pack = PolicyPack.from_files([f])
    assert pack["b"].default_effect == "deny"
    assert pack["b"].id == "b"
    with pytest.raises(KeyError):
        pack["nope"]
    assert [p.id for p in pack] == pack.ids() == ["a", "b", "c"]
    # iteration is repeatable
    assert [p.id for p in pack] == ["a", "b", "c"]


def test_pack_policies_evaluate(tmp_path: Path) -> None:
    f = write(tmp_path / "p.json", [definition("storage"), BARE_RULE])
    pack = PolicyPack.from_files([f])
    res = {"type": "Microsoft.Storage/storageAccounts", "name": "sa", "location": "eastus"}
    decisions = {p.id: p.evaluate(res) for p in pack}
    assert (decisions["storage"].matched, decisions["storage"].effect) == (True, "audit")
    assert (decisions["p#1"].matched, decisions["p#1"].effect) == (True, "deny")


def test_pack_from_files_accepts_any_iterable(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", definition("a"))
    b = write(tmp_path / "b.json", definition("b"))
    pack = PolicyPack.from_files(p for p in [a, b])
    assert pack.ids() == ["a", "b"]
    assert len(PolicyPack.from_files([])) == 0
