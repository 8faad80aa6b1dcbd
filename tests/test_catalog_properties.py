"""Property tests of mapping paths: composed relationships are sound with respect to real
sets, and reading a path backwards reverses the relationship (reversal is an involution)."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from azsecmap import Catalog

REVERSE = {"equal": "equal", "subset": "superset", "superset": "subset", "intersect": "intersect"}


def true_relationship(a: frozenset[int], b: frozenset[int]) -> str | None:
    if a == b:
        return "equal"
    if a < b:
        return "subset"
    if a > b:
        return "superset"
    return "intersect" if a & b else None


def holds(rel: str, a: frozenset[int], b: frozenset[int]) -> bool:
    """Does the claim `a REL b` hold for these sets? `intersect` claims only relatedness."""
    return {
        "equal": a == b,
        "subset": a <= b,
        "superset": a >= b,
        "intersect": True,
    }[rel]


scopes = st.frozensets(st.integers(0, 5), min_size=1)


def chain_doc(
    sets: list[frozenset[int]], backwards: list[bool], strengths: list[float]
) -> dict[str, Any]:
    """Frameworks F0..Fn with one control each, consecutive ones mapped; some mappings are
    published in the other direction (with the reversed relationship)."""
    mappings = []
    for i in range(len(sets) - 1):
        rel = true_relationship(sets[i], sets[i + 1])
        assert rel is not None
        src, dst = f"F{i}:c", f"F{i + 1}:c"
        if backwards[i]:
            src, dst, rel = dst, src, REVERSE[rel]
        mappings.append(
            {"source": src, "target": dst, "relationship": rel, "strength": strengths[i]}
        )
    return {
        "format": "azsecmap-catalog/1",
        "frameworks": [{"id": f"F{i}", "controls": [{"id": "c"}]} for i in range(len(sets))],
        "mappings": mappings,
    }


@settings(max_examples=80, deadline=None)
@given(
    sets=st.lists(scopes, min_size=2, max_size=4),
    backwards=st.lists(st.booleans(), min_size=3, max_size=3),
    strengths=st.lists(st.floats(0.05, 1.0), min_size=3, max_size=3),
)
def test_composed_relationship_is_sound_and_reverses(
    sets: list[frozenset[int]], backwards: list[bool], strengths: list[float]
) -> None:
    assume(all(true_relationship(a, b) is not None for a, b in itertools.pairwise(sets)))
    n = len(sets) - 1
    cat = Catalog.from_documents([chain_doc(sets, backwards, strengths)])
    fwd = cat.map("F0:c", to=f"F{n}", max_hops=n, include_derived=False)
    assert fwd.height == 1
    row = fwd.row(0, named=True)
    assert row["path"] == [f"F{i}:c" for i in range(n + 1)]
    assert holds(row["relationship"], sets[0], sets[n])
    expected_strength = 1.0
    for s in strengths[:n]:
        expected_strength *= s
    assert abs(row["strength"] - expected_strength) < 1e-9
    back = cat.map(f"F{n}:c", to="F0", max_hops=n, include_derived=False).row(0, named=True)
    assert back["relationship"] == REVERSE[row["relationship"]]
    assert holds(back["relationship"], sets[n], sets[0])
    # fewer hops than the chain is long: no answer
    if n > 1:
        assert cat.map("F0:c", to=f"F{n}", max_hops=n - 1, include_derived=False).is_empty()


@settings(max_examples=40, deadline=None)
@given(rels=st.lists(st.sampled_from(sorted(REVERSE)), min_size=1, max_size=3))
def test_publishing_a_mapping_backwards_twice_changes_nothing(rels: list[str]) -> None:
    """Reversal is an involution: a crosswalk published A→B, its reversal B→A, and the
    reversal of that reversal answer every query the same way."""

    def doc(flips: int) -> dict[str, Any]:
        mappings = []
        for i, rel in enumerate(rels):
            src, dst, r = f"A:{i}", f"B:{i}", rel
            for _ in range(flips):
                src, dst, r = dst, src, REVERSE[r]
            mappings.append({"source": src, "target": dst, "relationship": r})
        return {"format": "azsecmap-catalog/1", "mappings": mappings}

    answers = []
    for flips in (0, 1, 2):
        cat = Catalog.from_documents([doc(flips)])
        answers.append(
            [
                cat.map(f"A:{i}", to="B", include_derived=False)["relationship"].to_list()
                for i in range(len(rels))
            ]
        )
    assert answers[0] == answers[1] == answers[2] == [[r] for r in rels]
