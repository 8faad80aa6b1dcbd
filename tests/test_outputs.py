"""Results and score frames to Parquet/CSV/JSON/NDJSON, OCSF and SARIF; atomic writes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest

import azsecmap
from azsecmap.outputs import (
    FORMATS,
    atomic_write,
    format_for,
    policy_info,
    read_metadata,
    read_results,
    to_ocsf,
    to_sarif,
    write_frame,
    write_results,
)


@pytest.fixture(scope="module")
def evaluation() -> azsecmap.Evaluation:
    return azsecmap.evaluate(azsecmap.PolicyPack.builtin(), azsecmap.Resources.sample(400, seed=3))


@pytest.fixture(scope="module")
def info() -> azsecmap.outputs.PolicyInfo:
    return policy_info(azsecmap.PolicyPack.builtin(), azsecmap.Catalog.builtin(include_user=False))


def _plain(df: pl.DataFrame) -> pl.DataFrame:
    cols = ["resource_id", "resource_type", "policy_id", "state", "effect", "reason"]
    return df.select(pl.col(c).cast(pl.String) for c in cols).sort("resource_id", "policy_id")


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".json", ".ndjson"])
def test_results_round_trip(tmp_path: Path, evaluation: azsecmap.Evaluation, suffix: str) -> None:
    states = set(evaluation.results["state"].cast(pl.String).to_list())
    assert {"compliant", "non_compliant"} <= states
    path = tmp_path / f"results{suffix}"
    assert write_results(evaluation, path) == suffix[1:]
    back = read_results(path)
    assert back.height == evaluation.results.height
    assert _plain(back).equals(_plain(evaluation.results))


def test_parquet_keeps_run_metadata(
    tmp_path: Path, evaluation: azsecmap.Evaluation, info: dict[str, dict[str, object]]
) -> None:
    path = tmp_path / "r.parquet"
    write_results(evaluation, path, info=info)
    meta = read_metadata(path)
    assert meta["resource_count"] == 400
    pid = evaluation.results["policy_id"].cast(pl.String)[0]
    assert meta["policies"][pid]["severity"] in ("high", "medium", "low")


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json", "ndjson"])
def test_score_frame_round_trip(tmp_path: Path, fmt: str) -> None:
    scores = pl.DataFrame(
        {
            "control_id": ["NIST_SP_800-53_R5:AC-2", "NIST_SP_800-53_R5:SC-8"],
            "state": ["non_compliant", "manual"],
            "automated": [True, False],
            "policies": [["p1", "p2"], []],
            "compliant": [3, 0],
            "strength": [1.0, 0.5],
        }
    )
    path = tmp_path / "scores.out"
    write_frame(scores, path, fmt)
    if fmt == "parquet":
        back = pl.read_parquet(path)
    elif fmt == "csv":
        back = pl.read_csv(path).with_columns(
            pl.col("policies").str.json_decode(pl.List(pl.String))
        )
    elif fmt == "json":
        back = pl.read_json(path)
    else:
        back = pl.read_ndjson(path)
    assert back.select(scores.columns).equals(scores.cast({"policies": pl.List(pl.String)}))


def test_format_from_extension_and_flag() -> None:
    assert format_for("a/b.PARQUET") == "parquet"
    assert format_for("x.ocsf.json") == "ocsf"
    assert format_for("x.ocsf.ndjson") == "ocsf-ndjson"
    assert format_for("x.sarif") == "sarif"
    assert format_for("x.json") == "json"
    assert format_for("x.txt", "csv") == "csv"
    with pytest.raises(ValueError, match="cannot tell the format"):
        format_for("x.txt")
    with pytest.raises(ValueError, match="unknown format"):
        format_for("x.json", "xml")
    assert set(FORMATS) >= {"parquet", "csv", "json", "ndjson", "ocsf", "sarif"}


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("previous\n")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), atomic_write(target) as fh:
        fh.write(b"half of a new file")
        raise Boom
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]

    # A frame CSV cannot hold raises inside the writer: same guarantee.
    bad = pl.DataFrame({"o": [object()]}, schema={"o": pl.Object})
    with pytest.raises(Exception):  # noqa: B017 - polars' own error type for Object columns
        write_frame(bad, target)
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


KILL_WRITER = textwrap.dedent(
    """
    import sys, polars as pl
    from azsecmap.outputs import write_frame
    n = int(sys.argv[2])
    df = pl.select(
        resource_id=pl.format("/subscriptions/s/providers/x/{}", pl.int_range(n)),
        policy_id=pl.lit("p" * 40),
        state=pl.lit("non_compliant"),
    )
    print("ready", flush=True)
    write_frame(df, sys.argv[1])
    print("done", flush=True)
    """
)


def test_killed_writer_leaves_previous_version(tmp_path: Path) -> None:
    """SIGKILL a process part-way through a large NDJSON write: the target stays the complete
    previous version (the temp file may remain, the target is never truncated)."""
    target = tmp_path / "results.ndjson"
    previous = pl.DataFrame({"resource_id": ["/old"], "policy_id": ["p"], "state": ["compliant"]})
    write_frame(previous, target)
    before = target.read_bytes()
    script = tmp_path / "writer.py"
    script.write_text(KILL_WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(target), "3000000"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    # Wait until the temporary file exists and is growing, then kill mid-write.
    deadline = time.monotonic() + 60
    temp: list[Path] = []
    while time.monotonic() < deadline:
        temp = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        if temp and temp[0].stat().st_size > 1_000_000:
            break
        time.sleep(0.01)
    assert temp, "the writer never started writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == before
    assert read_results(target)["resource_id"].to_list() == ["/old"]

    # Killed before any previous version existed: no target at all.
    fresh = tmp_path / "fresh.ndjson"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(fresh), "3000000"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.name.startswith(".fresh.ndjson.") for p in tmp_path.iterdir()):
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert not fresh.exists()


def test_completed_subprocess_write_replaces_target(tmp_path: Path) -> None:
    target = tmp_path / "results.ndjson"
    target.write_text("old\n")
    script = tmp_path / "writer.py"
    script.write_text(KILL_WRITER)
    done = subprocess.run(
        [sys.executable, str(script), str(target), "1000"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert read_results(target).height == 1000
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


# --- OCSF ------------------------------------------------------------------------------------

OCSF_REQUIRED = (
    "activity_id",
    "category_uid",
    "class_uid",
    "type_uid",
    "severity_id",
    "status_id",
    "time",
    "metadata",
    "finding_info",
    "compliance",
    "resources",
)


def test_ocsf_required_fields_and_enums(
    evaluation: azsecmap.Evaluation, info: dict[str, dict[str, object]]
) -> None:
    t = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
    events = list(to_ocsf(evaluation.results, info=info, time=t))
    visible = evaluation.results.filter(pl.col("state").cast(pl.String) != "not_applicable")
    assert len(events) == visible.height > 0
    seen_status = set()
    for e in events:
        for field in OCSF_REQUIRED:
            assert field in e, field
        assert (e["class_uid"], e["category_uid"], e["activity_id"]) == (2003, 2, 1)
        assert e["type_uid"] == e["class_uid"] * 100 + e["activity_id"]
        assert e["severity_id"] in (0, 1, 2, 3, 4, 5, 6, 99)
        assert e["status_id"] in (0, 1, 2, 3, 4, 99)
        assert e["time"] == int(t.timestamp() * 1000)
        assert e["metadata"]["product"]["name"] == "azsecmap"
        assert e["metadata"]["product"]["version"] == azsecmap.__version__
        assert e["metadata"]["version"].startswith("1.")
        assert e["finding_info"]["uid"] and e["finding_info"]["title"]
        c = e["compliance"]
        assert c["status_id"] in (0, 1, 2, 3, 99)
        assert isinstance(c["standards"], list) and c["standards"]
        assert c["control"] == e["finding_info"]["analytic"]["uid"]
        assert e["resources"][0]["uid"].startswith("/subscriptions/")
        seen_status.add((e["unmapped"]["azsecmap_state"], c["status_id"], c["status"]))
    assert ("non_compliant", 3, "Fail") in seen_status
    assert ("compliant", 1, "Pass") in seen_status
    # Severity comes from the pack's metadata, and requirements from its control mapping.
    high = [e for e in events if e["severity_id"] == 4]
    assert high, "the built-in pack marks some rules high"
    assert any(r.startswith("MCSB_v1:") for e in events for r in e["compliance"]["requirements"])


def test_ocsf_state_mapping_exempt_unknown_error() -> None:
    df = pl.DataFrame(
        {
            "resource_id": ["/subscriptions/s/a"] * 4,
            "resource_type": ["t"] * 4,
            "policy_id": ["p1", "p2", "p3", "p4"],
            "state": ["exempt", "unknown", "error", "not_applicable"],
            "effect": ["audit"] * 4,
            "reason": [None, "no related resources", "boom", None],
        }
    )
    events = {e["finding_info"]["analytic"]["uid"]: e for e in to_ocsf(df)}
    assert set(events) == {"p1", "p2", "p3"}
    assert (events["p1"]["status_id"], events["p1"]["compliance"]["status_id"]) == (3, 99)
    assert events["p2"]["compliance"]["status_id"] == 2
    assert events["p3"]["compliance"]["status_id"] == 0
    assert events["p3"]["compliance"]["status_detail"] == "boom"
    assert events["p1"]["severity_id"] == 0  # no info: unknown severity, never invented


@pytest.mark.parametrize("suffix", [".ocsf.json", ".ocsf.ndjson"])
def test_ocsf_files_read_back(tmp_path: Path, evaluation: azsecmap.Evaluation, suffix: str) -> None:
    path = tmp_path / f"findings{suffix}"
    write_results(evaluation, path)
    if suffix == ".ocsf.json":
        assert isinstance(json.loads(path.read_text()), list)
    else:
        assert all(json.loads(line)["class_uid"] == 2003 for line in path.read_text().splitlines())
    back = read_results(path)
    visible = evaluation.results.filter(pl.col("state").cast(pl.String) != "not_applicable")
    cols = ["resource_id", "policy_id", "state"]
    assert (
        back.select(cols)
        .sort(cols)
        .equals(visible.select(pl.col(c).cast(pl.String) for c in cols).sort(cols))
    )


# --- SARIF -----------------------------------------------------------------------------------


def test_sarif_shape(evaluation: azsecmap.Evaluation, info: dict[str, dict[str, object]]) -> None:
    log = to_sarif(evaluation.results, info=info)
    assert log["version"] == "2.1.0"
    assert "sarif-2.1.0" in log["$schema"]
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "azsecmap" and driver["version"] == azsecmap.__version__
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    assert set(rule_ids) == set(evaluation.results["policy_id"].cast(pl.String).unique())
    failing = evaluation.results.filter(pl.col("state").cast(pl.String) == "non_compliant")
    assert len(run["results"]) == failing.height > 0
    for r in run["results"]:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] in ("error", "warning", "note")
        assert r["message"]["text"]
        (loc,) = r["locations"]
        (logical,) = loc["logicalLocations"]
        assert logical["fullyQualifiedName"].startswith("/subscriptions/")
        assert "physicalLocation" not in loc
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")


def test_sarif_file_round_trip(tmp_path: Path, evaluation: azsecmap.Evaluation) -> None:
    path = tmp_path / "scan.sarif"
    assert write_results(evaluation, path) == "sarif"
    back = read_results(path)
    failing = evaluation.results.filter(pl.col("state").cast(pl.String) == "non_compliant")
    key = ["resource_id", "policy_id"]
    assert (
        back.select(key)
        .sort(key)
        .equals(failing.select(pl.col(c).cast(pl.String) for c in key).sort(key))
    )


def test_read_results_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.parquet"
    with pytest.raises(azsecmap.ResourceError, match="no such file") as e:
        read_results(missing)
    assert str(missing) in str(e.value)
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"this is not parquet")
    with pytest.raises(azsecmap.ResourceError, match="not a parquet results file") as e:
        read_results(junk)
    assert str(junk) in str(e.value)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(azsecmap.ResourceError, match="no column"):
        read_results(other)
    assert os.path.exists(other)
