"""Read framework data in the formats azsecmap knows and turn it into catalog documents.

Every reader returns a *catalog document*: a dict in the canonical ``azsecmap-catalog/1``
format (see ``docs/catalog.md`` and ``catalog.schema.json`` beside this module). Readers:

- Azure Policy regulatory-compliance initiatives (policy set definitions): each
  ``policyDefinitionGroups`` entry becomes a control, each ``groupNames`` entry of a
  reference a ``satisfies`` record from ``policy:<definition GUID>`` to that control;
- NIST OSCAL catalogs (families, controls, enhancements, titles);
- crosswalk CSV files
  (``source_framework,source_control,target_framework,target_control,relationship[,strength],provenance[,...]``);
- our own YAML or JSON documents, validated against the JSON Schema.

Every error is a :class:`~azsecmap.errors.CatalogError` naming the file and the JSON
Pointer (or ``line N`` for CSV) at fault.

>>> doc = read_crosswalk_text(
...     "source_framework,source_control,target_framework,target_control,relationship,provenance\\n"
...     "A,1,B,2,subset,example\\n",
...     "example.csv",
... )
>>> doc["mappings"][0]["relationship"]
'subset'
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import CatalogError

__all__ = [
    "FORMAT",
    "GROUP_PREFIX_FRAMEWORKS",
    "RELATIONSHIPS",
    "default_effects",
    "read_crosswalk",
    "read_crosswalk_text",
    "read_custom",
    "read_document",
    "read_initiative",
    "read_oscal",
    "schema",
    "validate_document",
]

FORMAT = "azsecmap-catalog/1"
RELATIONSHIPS = ("equal", "subset", "superset", "intersect")

#: Group-name prefixes whose framework id differs from the prefix (DESIGN.md).
GROUP_PREFIX_FRAMEWORKS: dict[str, str] = {
    "Azure_Security_Benchmark_v3.0": "MCSB_v1",
    "CIS_Azure_Foundations_v3.0.0": "CIS_Azure_3.0.0",
    "CIS_Azure_Foundations_v2.1.0": "CIS_Azure_2.1.0",
}

CROSSWALK_REQUIRED = (
    "source_framework",
    "source_control",
    "target_framework",
    "target_control",
    "relationship",
    "provenance",
)

Document = dict[str, Any]


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the canonical catalog document."""
    text = resources.files("azsecmap").joinpath("data/catalog.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _pointer(path: Iterable[Any]) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "".join("/" + p for p in parts)


def validate_document(doc: Any, file: str) -> Document:
    """Check `doc` against the catalog JSON Schema; raise CatalogError at the first violation."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: (len(e.absolute_path), e.message))
    if errors:
        first = errors[0]
        raise CatalogError(
            f"schema violation: {first.message}", pointer=_pointer(first.absolute_path), file=file
        )
    for i, m in enumerate(doc.get("mappings", [])):
        for key in ("source", "target"):
            if ":" not in m[key]:
                raise CatalogError(
                    f"control id `{m[key]}` must have the form `FRAMEWORK:CONTROL`",
                    pointer=f"/mappings/{i}/{key}",
                    file=file,
                )
    result: Document = doc
    return result


def read_document(
    path: str | os.PathLike[str],
    *,
    framework: str | None = None,
    effects: Mapping[str, str] | None = None,
) -> Document:
    """Read any supported file and return a catalog document.

    The kind is told by the content: ``.csv`` is a crosswalk, ``.yaml``/``.yml`` our own
    format; a JSON file is our own format when it has ``"format"``, an OSCAL catalog when it
    has ``"catalog"``, an initiative when it has ``properties.policyDefinitions``.
    `framework` names the framework of an OSCAL catalog or an initiative when its own data
    does not say it; `effects` (definition GUID → default effect, see :func:`default_effects`)
    lets an initiative's `satisfies` records carry the effect.
    """
    p = Path(path)
    name = str(p)
    suffix = p.suffix.lower()
    try:
        text = p.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CatalogError(f"cannot read the file: {e}", pointer="", file=name) from e
    if suffix == ".csv":
        return read_crosswalk_text(text, name)
    if suffix in (".yaml", ".yml"):
        return read_custom(_load_yaml(text, name), name)
    data = _load_json(text, name)
    if isinstance(data, dict) and "format" in data:
        return read_custom(data, name)
    if isinstance(data, dict) and isinstance(data.get("catalog"), dict):
        return read_oscal(data, name, framework=framework)
    props = data.get("properties") if isinstance(data, dict) else None
    if isinstance(props, dict) and "policyDefinitions" in props:
        return read_initiative(data, name, framework=framework, effects=effects)
    raise CatalogError(
        "not a catalog document, OSCAL catalog or policy set definition", pointer="", file=name
    )


def _load_json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise CatalogError(
            f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})", pointer="", file=name
        ) from e


def _load_yaml(text: str, name: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise CatalogError(f"invalid YAML{where}", pointer="", file=name) from e


def read_custom(data: Any, file: str) -> Document:
    """Validate one of our own documents (already parsed from YAML or JSON)."""
    return validate_document(data, file)


# --- Azure Policy initiatives -------------------------------------------------------------


def _split_groups(names: list[str]) -> tuple[str, list[str]]:
    """The common `<PREFIX>_` of group names, and each name's control id after it."""
    if not names:
        return "", []
    first = min(names)
    last = max(names)
    common = 0
    while common < min(len(first), len(last)) and first[common] == last[common]:
        common += 1
    prefix_end = first.rfind("_", 0, common + 1) if len(names) > 1 else first.rfind("_")
    if prefix_end <= 0:
        return "", names
    return first[:prefix_end], [n[prefix_end + 1 :] for n in names]


_PARAM_REF = re.compile(r"^\[parameters\('([^']+)'\)\]$", re.IGNORECASE)


def _resolve_effect(value: Any, parameters: Mapping[str, Any]) -> str | None:
    """An effect value, following one `[parameters('x')]` to its default."""
    if isinstance(value, str):
        m = _PARAM_REF.match(value.strip())
        if m is None:
            return value.lower()
        param = parameters.get(m.group(1))
        if isinstance(param, dict):
            return _resolve_effect(param.get("defaultValue"), {})
    return None


def default_effects(definitions_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Map every policy definition GUID below `definitions_dir` to its default effect."""
    out: dict[str, str] = {}
    for f in sorted(Path(definitions_dir).rglob("*.json")):
        try:
            d = json.loads(f.read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        props = d.get("properties", {}) if isinstance(d, dict) else {}
        rule = props.get("policyRule") if isinstance(props, dict) else None
        if not isinstance(rule, dict) or not isinstance(d.get("name"), str):
            continue
        then = rule.get("then")
        effect = then.get("effect") if isinstance(then, dict) else None
        resolved = _resolve_effect(effect, props.get("parameters") or {})
        if resolved:
            out[d["name"]] = resolved
    return out


def read_initiative(
    data: Any,
    file: str,
    *,
    framework: str | None = None,
    effects: Mapping[str, str] | None = None,
    keep_controls: Callable[[str], bool] | None = None,
) -> Document:
    """Turn a regulatory-compliance policy set definition into a catalog document.

    Groups become controls of one framework; the framework id is `framework`, else the group
    names' common ``<PREFIX>_`` (mapped through :data:`GROUP_PREFIX_FRAMEWORKS`), else the
    file's stem (then the whole group names are the control ids). Each
    `groupNames` entry becomes a `satisfies` record from the definition GUID (the last
    segment of `policyDefinitionId`) to the control, with the initiative's display name and
    version as provenance. `effects` (GUID → default effect of the definition) lets the
    record carry the effect the initiative assigns by default.
    """
    if not isinstance(data, dict) or not isinstance(data.get("properties"), dict):
        raise CatalogError("a policy set definition needs `properties`", pointer="", file=file)
    props = data["properties"]
    groups = props.get("policyDefinitionGroups") or []
    if not isinstance(groups, list):
        raise CatalogError(
            "`policyDefinitionGroups` must be a list",
            pointer="/properties/policyDefinitionGroups",
            file=file,
        )
    names: list[str] = []
    for i, g in enumerate(groups):
        if not isinstance(g, dict) or not isinstance(g.get("name"), str):
            raise CatalogError(
                "a group needs a string `name`",
                pointer=f"/properties/policyDefinitionGroups/{i}",
                file=file,
            )
        names.append(g["name"])
    prefix, local_ids = _split_groups(names)
    # Without a shared `<PREFIX>_` the group names are the control ids and the file's stem
    # names the framework.
    fallback = re.sub(r"[\s:]+", "_", Path(file).stem)
    fw = framework or GROUP_PREFIX_FRAMEWORKS.get(prefix, prefix) or fallback
    local_of = dict(zip(names, local_ids, strict=True))
    metadata: dict[str, Any] = props["metadata"] if isinstance(props.get("metadata"), dict) else {}
    version = props.get("version") or metadata.get("version")
    title = props.get("displayName") or data.get("name") or Path(file).stem
    init_params = props.get("parameters") or {}
    controls = [{"id": local} for local in local_ids]
    if keep_controls is not None:
        controls = [c for c in controls if keep_controls(c["id"])]
    satisfies: list[dict[str, Any]] = []
    policies: dict[str, dict[str, Any]] = {}
    refs = props.get("policyDefinitions")
    if not isinstance(refs, list):
        raise CatalogError(
            "`policyDefinitions` must be a list", pointer="/properties/policyDefinitions", file=file
        )
    seen: set[tuple[str, str]] = set()
    for i, ref in enumerate(refs):
        at = f"/properties/policyDefinitions/{i}"
        pid = ref.get("policyDefinitionId") if isinstance(ref, dict) else None
        if not isinstance(pid, str) or not pid.strip("/"):
            raise CatalogError("a reference needs a `policyDefinitionId`", pointer=at, file=file)
        guid = pid.rstrip("/").rsplit("/", 1)[-1]
        effect = None
        if effects is not None and guid in effects:
            override = (ref.get("parameters") or {}).get("effect")
            effect = effects[guid]
            if isinstance(override, dict) and "value" in override:
                effect = _resolve_effect(override["value"], init_params) or effect
            policies.setdefault(guid, {"id": guid, "effect": effects[guid]})
        group_names = ref.get("groupNames") or []
        if not isinstance(group_names, list):
            raise CatalogError("`groupNames` must be a list", pointer=f"{at}/groupNames", file=file)
        for j, gname in enumerate(group_names):
            if gname not in local_of:
                raise CatalogError(
                    f"group `{gname}` is not declared in `policyDefinitionGroups`",
                    pointer=f"{at}/groupNames/{j}",
                    file=file,
                )
            control = f"{fw}:{local_of[gname]}"
            if (guid, control) in seen:
                continue
            seen.add((guid, control))
            record: dict[str, Any] = {"policy": guid, "control": control, "initiative": title}
            if version:
                record["version"] = str(version)
            if effect:
                record["effect"] = effect
            satisfies.append(record)
    doc: Document = {
        "format": FORMAT,
        "source": f"policy set definition {data.get('name', '')} ({Path(file).name})",
        "frameworks": [
            {
                "id": fw,
                "title": str(title),
                **({"version": str(version)} if version else {}),
                "source": f"initiative `{title}` {version or ''}".strip(),
                "controls": controls,
            }
        ],
        "satisfies": satisfies,
    }
    if policies:
        doc["policies"] = list(policies.values())
    return doc


# --- NIST OSCAL ----------------------------------------------------------------------------

_OSCAL_ID = re.compile(r"^([a-z]+)-(\d+)(?:\.(\d+))?$")


def oscal_control_id(oscal_id: str) -> str:
    """`ac-2.1` → `AC-2(1)`, `ac-2` → `AC-2`; other ids upper-cased as they are."""
    m = _OSCAL_ID.match(oscal_id)
    if m is None:
        return oscal_id.upper()
    base = f"{m.group(1).upper()}-{m.group(2)}"
    return f"{base}({m.group(3)})" if m.group(3) else base


def _oscal_framework(metadata: Mapping[str, Any]) -> str | None:
    title = str(metadata.get("title", ""))
    m = re.search(r"800-53\s+Revision\s+(\d)", title)
    return f"NIST_SP_800-53_R{m.group(1)}" if m else None


def read_oscal(data: Any, file: str, *, framework: str | None = None) -> Document:
    """Turn an OSCAL catalog (or resolved profile catalog) into a catalog document.

    Groups become families, controls and nested controls (enhancements) become controls
    with their titles; withdrawn controls are left out. The framework id is `framework`, or
    `NIST_SP_800-53_R<n>` when the catalog title names SP 800-53 Revision n.
    """
    cat = data.get("catalog") if isinstance(data, dict) else None
    if not isinstance(cat, dict):
        raise CatalogError("an OSCAL catalog needs `catalog`", pointer="", file=file)
    metadata: dict[str, Any] = cat["metadata"] if isinstance(cat.get("metadata"), dict) else {}
    fw = framework or _oscal_framework(metadata)
    if not fw:
        raise CatalogError(
            "cannot tell the framework from the catalog title; pass a framework id",
            pointer="/catalog/metadata/title",
            file=file,
        )
    families: list[dict[str, Any]] = []
    controls: list[dict[str, Any]] = []

    def walk(items: Any, parent: str | None, at: str) -> None:
        if items is None:
            return
        if not isinstance(items, list):
            raise CatalogError("`controls` must be a list", pointer=at, file=file)
        for i, c in enumerate(items):
            here = f"{at}/{i}"
            if not isinstance(c, dict) or not isinstance(c.get("id"), str):
                raise CatalogError("a control needs a string `id`", pointer=here, file=file)
            props = {p.get("name"): p.get("value") for p in c.get("props", []) or []}
            if props.get("status") == "withdrawn":
                continue
            cid = oscal_control_id(c["id"])
            record: dict[str, Any] = {"id": cid}
            if isinstance(c.get("title"), str):
                record["title"] = c["title"]
            if parent:
                record["parent"] = parent
            controls.append(record)
            walk(c.get("controls"), cid, f"{here}/controls")

    groups = cat.get("groups") or []
    if not isinstance(groups, list):
        raise CatalogError("`groups` must be a list", pointer="/catalog/groups", file=file)
    for i, g in enumerate(groups):
        at = f"/catalog/groups/{i}"
        if not isinstance(g, dict) or not isinstance(g.get("id"), str):
            raise CatalogError("a group needs a string `id`", pointer=at, file=file)
        fam = g["id"].upper()
        families.append({"id": fam, **({"title": g["title"]} if "title" in g else {})})
        walk(g.get("controls"), fam, f"{at}/controls")
    walk(cat.get("controls"), None, "/catalog/controls")
    version = metadata.get("version")
    return {
        "format": FORMAT,
        "source": f"OSCAL catalog {Path(file).name}",
        "frameworks": [
            {
                "id": fw,
                **({"version": str(version)} if version else {}),
                "source": f"OSCAL `{metadata.get('title', Path(file).name)}`",
                "families": families,
                "controls": controls,
            }
        ],
    }


# --- crosswalk CSV -------------------------------------------------------------------------


def read_crosswalk(path: str | Path) -> Document:
    """Read a crosswalk CSV file."""
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CatalogError(f"cannot read the file: {e}", pointer="", file=str(p)) from e
    return read_crosswalk_text(text, str(p))


def read_crosswalk_text(text: str, file: str) -> Document:
    """Read crosswalk CSV text; `file` names it in errors (`line N` is the CSV line)."""
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise CatalogError("empty crosswalk file", pointer="line 1", file=file) from None
    except csv.Error as e:
        raise CatalogError(f"malformed CSV: {e}", pointer="line 1", file=file) from e
    header = [h.strip() for h in header]
    missing = [c for c in CROSSWALK_REQUIRED if c not in header]
    if missing:
        raise CatalogError(
            f"missing column(s) `{'`, `'.join(missing)}`", pointer="line 1", file=file
        )
    col = {name: i for i, name in enumerate(header)}
    mappings: list[dict[str, Any]] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise CatalogError(
                f"malformed CSV: {e}", pointer=f"line {reader.line_num}", file=file
            ) from e
        line = f"line {reader.line_num}"
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise CatalogError(
                f"expected {len(header)} fields, found {len(row)}", pointer=line, file=file
            )
        get = {name: row[i] for name, i in col.items()}
        for name in CROSSWALK_REQUIRED:
            if name != "provenance" and not get[name]:
                raise CatalogError(f"empty `{name}`", pointer=line, file=file)
        rel = get["relationship"]
        if rel not in RELATIONSHIPS:
            raise CatalogError(
                f"unknown relationship `{rel}` (expected equal, subset, superset or intersect)",
                pointer=line,
                file=file,
            )
        record: dict[str, Any] = {
            "source": f"{get['source_framework']}:{get['source_control']}",
            "target": f"{get['target_framework']}:{get['target_control']}",
            "relationship": rel,
        }
        if get.get("strength"):
            try:
                strength = float(get["strength"])
            except ValueError:
                strength = -1.0
            if not 0.0 <= strength <= 1.0:
                raise CatalogError(
                    f"strength `{get['strength']}` must be a number between 0 and 1",
                    pointer=line,
                    file=file,
                )
            record["strength"] = strength
        rationale = "; ".join(
            v for v in (get.get("published_relationship", ""), get.get("note", "")) if v
        )
        if rationale:
            record["rationale"] = rationale
        record["provenance"] = get["provenance"] or Path(file).name
        mappings.append(record)
    return {"format": FORMAT, "source": f"crosswalk {Path(file).name}", "mappings": mappings}
