"""The control catalog: frameworks, their controls, the policies that check them, and
published mappings between controls of different frameworks.

>>> import azsecmap
>>> cat = azsecmap.Catalog.builtin(include_user=False)
>>> "NIST_SP_800-53_R5" in cat.frameworks()["framework"].to_list()
True
>>> hits = cat.map("MCSB_v1:NS-1", to="NIST_SP_800-53_R5", include_derived=False)
>>> hits["path"][0][1].startswith("NIST_SP_800-53_R4:")  # through the Rev 4 → Rev 5 crosswalk
True
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import polars as pl

from . import _core
from .errors import CatalogError
from .importers import FORMAT, default_effects, read_document, validate_document

if TYPE_CHECKING:
    import networkx

    from .policy import PolicyPack

__all__ = ["PACK_PROVENANCE", "Catalog", "catalog_dir", "import_file"]

#: Provenance of the `satisfies` edges a pack's own rules declare (see `Catalog.with_pack`).
PACK_PROVENANCE = "azsecmap default rule pack"


PathLike = Union[str, "os.PathLike[str]"]

FRAMEWORK_SCHEMA: dict[str, Any] = {
    "framework": pl.String,
    "title": pl.String,
    "version": pl.String,
    "source": pl.String,
    "declared": pl.Boolean,
    "controls": pl.Int64,
    "families": pl.Int64,
    "external_controls": pl.Int64,
    "policies": pl.Int64,
    "satisfies": pl.Int64,
    "mappings": pl.Int64,
}

CONTROL_SCHEMA: dict[str, Any] = {
    "control": pl.String,
    "id": pl.String,
    "kind": pl.String,
    "title": pl.String,
    "parent": pl.String,
    "depth": pl.Int64,
    "policies": pl.Int64,
    "automated_policies": pl.Int64,
}

MAP_SCHEMA: dict[str, Any] = {
    "source": pl.String,
    "target": pl.String,
    "target_framework": pl.String,
    "relationship": pl.String,
    "strength": pl.Float64,
    "hops": pl.Int64,
    "published": pl.Boolean,
    "path": pl.List(pl.String),
    "provenance": pl.List(pl.String),
    "shared_policies": pl.List(pl.String),
    "evidence": pl.String,
}

COVERAGE_SCHEMA: dict[str, Any] = {
    "control": pl.String,
    "target": pl.String,
    "relationship": pl.String,
    "strength": pl.Float64,
    "hops": pl.Int64,
    "published": pl.Boolean,
    "path": pl.List(pl.String),
    "evidence": pl.String,
}

UNAUTOMATED_SCHEMA: dict[str, Any] = {
    "control": pl.String,
    "title": pl.String,
    "manual_policies": pl.Int64,
}


def catalog_dir() -> Path:
    """The user catalog directory: ``$AZSECMAP_CATALOG_DIR``, else
    ``~/.local/share/azsecmap/catalog``."""
    env = os.environ.get("AZSECMAP_CATALOG_DIR")
    if env:
        return Path(env)
    return Path.home() / ".local" / "share" / "azsecmap" / "catalog"


def import_file(
    path: PathLike,
    *,
    directory: PathLike | None = None,
    framework: str | None = None,
    definitions: PathLike | None = None,
) -> Path:
    """Read a framework file of any supported kind, normalise it to a catalog document and
    store it in the user catalog directory as ``<stem>.json`` (replacing an earlier import of
    the same name). Returns the written path. The document is checked by building a graph
    with the bundled catalog first, so a file that would break ``Catalog.builtin()`` is
    refused. `definitions` (a folder of policy definition JSON files) gives an initiative's
    edges their default effects, so `unautomated` can tell manual policies apart."""
    src = Path(path)
    effects = default_effects(definitions) if definitions is not None else None
    doc = read_document(src, framework=framework, effects=effects)
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    try:
        _core.CatalogGraph.build([(str(src), text)], True)
    except CatalogError as e:
        raise e.with_file(str(src)) from None
    out_dir = Path(directory) if directory is not None else catalog_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", src.stem) or "imported"
    out = out_dir / f"{stem}.json"
    out.write_text(text + "\n", "utf-8")
    return out


def _evidence(hit: Mapping[str, Any]) -> str:
    """The path in words: one clause per step, with its publisher."""
    parts = []
    for s in hit["steps"]:
        if s["relationship"] == "shares_policy":
            shared = hit["shared_policies"]
            listed = ", ".join(shared[:3]) + (", …" if len(shared) > 3 else "")
            noun = "policy" if len(shared) == 1 else "policies"
            parts.append(
                f"{s['from']} shares {len(shared)} {noun} with {s['to']} ({listed}) "
                "[derived, not a published mapping]"
            )
            continue
        back = ", walked backwards" if s["reversed"] else ""
        parts.append(f"{s['from']} {s['relationship']} {s['to']} [{s['provenance'] or '?'}{back}]")
    return "; ".join(parts)


def _hit_row(hit: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "source": hit["source"],
        "target": hit["target"],
        "target_framework": hit["target_framework"],
        "relationship": hit["relationship"],
        "strength": hit["strength"],
        "hops": hit["hops"],
        "published": hit["published"],
        "path": hit["path"],
        "provenance": [s["provenance"] or "" for s in hit["steps"]],
        "shared_policies": hit["shared_policies"],
        "evidence": _evidence(hit),
    }


class Catalog:
    """Frameworks, controls, policies and mappings as one graph (built in the Rust core).

    Build one with :meth:`builtin` (the bundled catalog plus the user's imports) or
    :meth:`from_files`. Queries return Polars frames; :meth:`to_networkx` gives the graph.
    """

    def __init__(
        self,
        graph: _core.CatalogGraph,
        docs: list[tuple[str, str]] | None = None,
        bundled: bool = False,
    ) -> None:
        self._graph = graph
        # What the graph was built from, so views such as `with_pack` rebuild it cheaply.
        self._docs = docs or []
        self._bundled = bundled

    # --- construction -------------------------------------------------------------------

    @classmethod
    def builtin(cls, *, include_user: bool = True, user_dir: PathLike | None = None) -> Catalog:
        """The bundled catalog, plus every ``*.json`` in the user catalog directory
        (:func:`catalog_dir`, or `user_dir`) when `include_user`."""
        docs: list[tuple[str, str]] = []
        if include_user:
            d = Path(user_dir) if user_dir is not None else catalog_dir()
            if d.is_dir():
                for f in sorted(d.glob("*.json")):
                    docs.append((str(f), json.dumps(read_document(f))))
        return cls._build(docs, bundled=True)

    @classmethod
    def from_files(
        cls,
        paths: PathLike | Iterable[PathLike],
        *,
        bundled: bool = False,
        framework: str | None = None,
    ) -> Catalog:
        """A catalog from files of any supported kind (initiative JSON, OSCAL JSON, crosswalk
        CSV, our YAML/JSON format), optionally on top of the bundled catalog. `framework`
        names the framework of initiatives and OSCAL catalogs that do not say it."""
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        docs = [(str(p), json.dumps(read_document(p, framework=framework))) for p in paths]
        return cls._build(docs, bundled=bundled)

    @classmethod
    def from_documents(
        cls, documents: Iterable[Mapping[str, Any]], *, bundled: bool = False
    ) -> Catalog:
        """A catalog from catalog documents given as dicts (validated against the schema)."""
        docs = []
        for i, d in enumerate(documents):
            name = f"<document {i}>"
            docs.append((name, json.dumps(validate_document(dict(d), name))))
        return cls._build(docs, bundled=bundled)

    @classmethod
    def _build(cls, docs: list[tuple[str, str]], *, bundled: bool) -> Catalog:
        return cls(_core.CatalogGraph.build(docs, bundled), docs, bundled)

    def with_pack(self, pack: PolicyPack, *, initiative: str = PACK_PROVENANCE) -> Catalog:
        """This catalog plus the ``satisfies`` edges the pack's own policies declare in
        ``metadata.azsecmap.controls`` (as every rule of :meth:`PolicyPack.builtin` does), with
        `initiative` as their provenance. The catalog itself stays as the initiatives state it;
        scoring a pack of our rules uses this view.

        A declared control the catalog does not hold raises :class:`CatalogError` naming the
        policy.

        >>> import azsecmap
        >>> cat = azsecmap.Catalog.builtin(include_user=False)
        >>> ours = cat.with_pack(azsecmap.PolicyPack.builtin())
        >>> ours.controls_of("azsecmap-kv-001-soft-delete")[:2]
        ['CIS_Azure_2.0.0:8.5', 'CIS_Azure_3.0.0:3.3.5']
        """
        meta = pack.metadata()
        declared = {
            pid: {"controls": controls, "effect": effect, "version": version, "source": source}
            for pid, controls, effect, version, source in meta.select(
                "policy_id", "controls", "default_effect", "version", "source"
            ).iter_rows()
        }
        return self.with_policy_controls(declared, initiative=initiative)

    def with_policy_controls(
        self,
        declared: Mapping[str, Mapping[str, Any]],
        *,
        initiative: str = PACK_PROVENANCE,
    ) -> Catalog:
        """This catalog plus ``satisfies`` edges from `declared`: policy id → ``{"controls":
        [...], "effect", "version", "source"}`` (all but ``controls`` optional), as
        :func:`azsecmap.outputs.policy_info` stores them with results. Unknown controls raise
        :class:`CatalogError` naming the policy (and ``source`` as the file)."""
        graph = self.node_link()
        known = {n["id"] for n in graph["nodes"] if n["kind"] == "control"}
        linked = {(e["u"], e["v"]) for e in graph["edges"] if e["kind"] == "satisfies"}
        policies: list[dict[str, Any]] = []
        satisfies: list[dict[str, Any]] = []
        for policy_id, entry in sorted(declared.items()):
            # Pairs the catalog already links keep their own provenance.
            controls = [
                c for c in entry.get("controls") or [] if (f"policy:{policy_id}", c) not in linked
            ]
            if not controls:
                continue
            effect = str(entry.get("effect") or "audit").lower()
            policies.append({"id": policy_id, "effect": effect})
            for control in controls:
                if control not in known:
                    raise CatalogError(
                        f"policy `{policy_id}` declares control `{control}`, which the "
                        "catalog does not hold",
                        pointer="/properties/metadata/azsecmap/controls",
                        file=entry.get("source"),
                    )
                satisfies.append(
                    {
                        "policy": policy_id,
                        "control": control,
                        "initiative": initiative,
                        "version": str(entry.get("version") or ""),
                        "effect": effect,
                    }
                )
        if not satisfies:
            return self
        doc = {"format": FORMAT, "source": initiative, "policies": policies, "satisfies": satisfies}
        extra = (f"<{initiative}>", json.dumps(validate_document(doc, initiative)))
        return Catalog._build([*self._docs, extra], bundled=self._bundled)

    def controls_of(self, policy_id: str) -> list[str]:
        """The controls a policy satisfies in this catalog, sorted."""
        node = f"policy:{policy_id}"
        return sorted(
            e["v"] for e in self.node_link()["edges"] if e["u"] == node and e["kind"] == "satisfies"
        )

    # --- queries ------------------------------------------------------------------------

    def frameworks(self) -> pl.DataFrame:
        """One row per framework.

        Columns: ``framework``, ``title``, ``version``, ``source`` (where its control list
        came from), ``declared`` (False when only mappings name it), ``controls``,
        ``families``, ``external_controls`` (named by mappings but not declared),
        ``policies`` (distinct policies satisfying its controls), ``satisfies`` (edges),
        ``mappings`` (published mappings with an end in it).
        """
        return pl.DataFrame(json.loads(self._graph.frameworks_json()), schema=FRAMEWORK_SCHEMA)

    def controls(self, framework: str, *, include_families: bool = False) -> pl.DataFrame:
        """The controls of `framework`, in catalog order.

        Columns: ``control`` (``FRAMEWORK:CONTROL``), ``id``, ``kind`` (``control``,
        ``external_control``, and ``family`` when `include_families`), ``title``,
        ``parent`` (node id of the family or control above it), ``depth`` (1 = top level),
        ``policies``, ``automated_policies`` (effect other than ``manual``).
        """
        rows = json.loads(self._graph.controls_json(framework))
        df = pl.DataFrame(rows, schema=CONTROL_SCHEMA)
        return df if include_families else df.filter(pl.col("kind") != "family")

    def map(
        self,
        control: str,
        to: str,
        min_strength: float = 0.0,
        max_hops: int = 2,
        *,
        include_derived: bool = True,
    ) -> pl.DataFrame:
        """Map `control` (``FRAMEWORK:CONTROL``) into framework `to`.

        Published mappings are followed in either direction, directly and through pivot
        frameworks (at most `max_hops` edges), strengths multiplying along the path and
        relationships composing (see ``docs/catalog.md``); one row per target control, its
        best path. Then, when `include_derived`, controls that merely share a policy with
        `control` and are not reached by a published path, with ``relationship =
        "shares_policy"`` and ``published = False``.

        Columns: ``source``, ``target``, ``target_framework``, ``relationship`` (``equal``,
        ``subset``, ``superset``, ``intersect`` read "source REL target", or
        ``shares_policy``), ``strength`` (0..1), ``hops``, ``published``, ``path`` (node ids
        from source to target; for derived rows the shared ``policy:`` nodes),
        ``provenance`` (publisher of each step), ``shared_policies``, ``evidence`` (the path
        in words).
        """
        hits = json.loads(
            self._graph.map_json(control, to, float(min_strength), int(max_hops), include_derived)
        )
        return pl.DataFrame([_hit_row(h) for h in hits], schema=MAP_SCHEMA)

    def coverage(
        self,
        a: str,
        b: str,
        min_strength: float = 0.0,
        max_hops: int = 2,
        *,
        include_derived: bool = True,
    ) -> pl.DataFrame:
        """For every control of framework `a`, its best mapping into `b` (the first row
        :meth:`map` gives), or nulls when there is none.

        Columns: ``control``, ``target``, ``relationship``, ``strength``, ``hops``,
        ``published``, ``path``, ``evidence``.
        """
        rows = json.loads(
            self._graph.coverage_json(a, b, float(min_strength), int(max_hops), include_derived)
        )
        out = []
        for r in rows:
            h = r["hit"]
            if h is None:
                out.append({"control": r["control"]})
                continue
            out.append(
                {
                    "control": r["control"],
                    "target": h["target"],
                    "relationship": h["relationship"],
                    "strength": h["strength"],
                    "hops": h["hops"],
                    "published": h["published"],
                    "path": h["path"],
                    "evidence": _evidence(h),
                }
            )
        return pl.DataFrame(out, schema=COVERAGE_SCHEMA)

    def unautomated(self, framework: str) -> pl.DataFrame:
        """Controls of `framework` that no automated policy checks: no policy at all, or only
        policies whose effect is ``manual`` (attestation).

        Columns: ``control``, ``title``, ``manual_policies``.
        """
        rows = json.loads(self._graph.unautomated_json(framework))
        return pl.DataFrame(rows, schema=UNAUTOMATED_SCHEMA)

    # --- export -------------------------------------------------------------------------

    def node_link(self, *, include_derived: bool = False) -> dict[str, Any]:
        """Nodes and edges as plain records (``{"nodes": [...], "edges": [...]}``; edge
        endpoints under ``u`` and ``v``)."""
        loaded: dict[str, Any] = json.loads(self._graph.node_link_json(include_derived))
        return loaded

    def to_networkx(self, *, include_derived: bool = False) -> networkx.DiGraph[str]:
        """The graph as a :class:`networkx.DiGraph`.

        Node ids: ``framework:<ID>``, ``<ID>:<CONTROL>``, ``policy:<policy id>``; node
        attribute ``kind`` (``framework``, ``family``, ``control``, ``external_control``,
        ``policy``). Edge attribute ``kind``: ``contains``, ``satisfies`` (with
        ``initiative``, ``version``, ``effect``), ``maps_to`` (with ``relationship``,
        ``strength``, ``source`` = publisher, ``rationale``), and with `include_derived`
        ``shares_policy`` edges (``published = False``).
        """
        import networkx as nx

        data = self.node_link(include_derived=include_derived)
        g: networkx.DiGraph[str] = nx.DiGraph()
        for n in data["nodes"]:
            attrs = dict(n)
            g.add_node(attrs.pop("id"), **attrs)
        for e in data["edges"]:
            attrs = dict(e)
            g.add_edge(attrs.pop("u"), attrs.pop("v"), **attrs)
        return g

    def to_graphml(self, path: PathLike, *, include_derived: bool = False) -> None:
        """Write the graph as GraphML (via networkx)."""
        import networkx as nx

        nx.write_graphml(self.to_networkx(include_derived=include_derived), str(path))

    def document(self) -> dict[str, Any]:
        """The merged catalog document (canonical ``azsecmap-catalog/1`` format)."""
        loaded: dict[str, Any] = json.loads(self._graph.document_json())
        return loaded

    def to_json(self, path: PathLike) -> None:
        """Write the merged catalog document; :meth:`from_files` reads it back."""
        Path(path).write_text(
            json.dumps(self.document(), ensure_ascii=False, indent=1) + "\n", "utf-8"
        )

    def __repr__(self) -> str:
        nodes, edges = self._graph.size()
        return f"<Catalog {nodes} nodes, {edges} edges>"
