"""The HTML report: self-contained, correct figures, and rendered by a real headless Chromium
with no console errors and visible charts."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import azsecmap
from azsecmap._scores import framework_scores
from azsecmap.cli import app
from azsecmap.outputs import policy_info, write_results
from azsecmap.report import render, write_report

FRAMEWORKS = ["NIST_SP_800-53_R5", "PCI_DSS_v4.0.1", "CIS_Azure_3.0.0"]
WIDTH, HEIGHT = 1280, 2200


@pytest.fixture(scope="module")
def catalog() -> azsecmap.Catalog:
    return azsecmap.Catalog.builtin(include_user=False)


@pytest.fixture(scope="module")
def evaluation() -> azsecmap.Evaluation:
    return azsecmap.evaluate(azsecmap.PolicyPack.builtin(), azsecmap.Resources.sample(2000, seed=5))


@pytest.fixture(scope="module")
def page(evaluation: azsecmap.Evaluation, catalog: azsecmap.Catalog) -> str:
    return render(evaluation, catalog, FRAMEWORKS, info=policy_info(azsecmap.PolicyPack.builtin()))


def test_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    # No attribute or stylesheet can make the browser fetch anything.
    assert not re.search(r"""\b(src|href|action|poster)\s*=""", page)
    assert "@import" not in page and "url(" not in page
    assert "<script" not in page and "<link" not in page
    assert "default-src 'none'" in page


def test_figures_in_the_page(
    page: str, evaluation: azsecmap.Evaluation, catalog: azsecmap.Catalog
) -> None:
    for fw in FRAMEWORKS:
        scored_with = catalog.with_pack(azsecmap.PolicyPack.builtin())
        fs = framework_scores(evaluation, scored_with, fw)
        assert [s.name for s in fs.scores] == ["azure", "strict", "coverage", "secure_score"]
        assert f'id="fw-{fw}"' in page
        for s in fs.scores:
            assert s.denominator > 0, (fw, s)
            num = (
                f"{int(s.numerator):,}"
                if float(s.numerator).is_integer()
                else f"{s.numerator:,.2f}"
            )
            assert f"{num} / {int(s.denominator):,}" in page, (fw, s)
        # one heatmap square per control
        heat = page.split(f"control heatmap {fw}")[1].split("</svg>")[0]
        assert heat.count("<rect") == fs.controls.height
    failing = evaluation.results.filter(pl.col("state").cast(pl.String) == "non_compliant")
    top_type = (
        failing.group_by(pl.col("resource_type").cast(pl.String))
        .agg(pl.col("resource_id").n_unique())
        .sort("resource_id", descending=True)
        .row(0)
    )
    assert f"{top_type[0]}: {top_type[1]:,} resources" in page


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("no `chromium` binary on PATH (CI installs Debian's chromium package)")
    return found


def browse(html_file: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={tmp / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            f"--window-size={WIDTH},{HEIGHT}",
            *extra,
            html_file.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


def console_problems(stderr: str) -> list[str]:
    """Console messages and blocked loads Chromium logged for the page."""
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line or "Content Security Policy" in line or "Refused to" in line
    ]


def test_harness_sees_console_errors(tmp_path: Path) -> None:
    """The check below can fail: a page that errors and fetches is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>"
        "<script>console.error('boom from the page')</script>"
        '<img src="https://example.invalid/x.png"></body></html>'
    )
    r = browse(bad, tmp_path, "--dump-dom")
    problems = console_problems(r.stderr)
    assert any("boom from the page" in p for p in problems), r.stderr[-3000:]
    assert any("example.invalid" in p for p in problems), r.stderr[-3000:]


def test_chromium_renders_report(page: str, tmp_path: Path) -> None:
    html_file = tmp_path / "report.html"
    write_report(page, html_file)
    r = browse(html_file, tmp_path, "--dump-dom")
    assert r.returncode == 0, r.stderr[-3000:]
    assert console_problems(r.stderr) == [], console_problems(r.stderr)
    dom = r.stdout
    # Every chart survived parsing into the live DOM.
    assert dom.count("<svg") >= 1 + 2 * len(FRAMEWORKS) + 2
    assert dom.count('class="chart heatmap"') == len(FRAMEWORKS)
    assert "Top failing policies" in dom

    shot = tmp_path / "report.png"
    r = browse(html_file, tmp_path, f"--screenshot={shot}")
    assert r.returncode == 0, r.stderr[-3000:]
    assert console_problems(r.stderr) == []
    from PIL import Image

    with Image.open(shot) as img:
        assert img.format == "PNG"
        assert img.size == (WIDTH, HEIGHT)
        rgb = img.convert("RGB")
        colours = rgb.getcolors(maxcolors=WIDTH * HEIGHT)
    assert colours is not None
    assert len(colours) > 200, len(colours)  # text, bars, heatmap: not a blank page
    by_colour = {c: n for n, c in colours}
    # The charts' own fills are on screen: the failing red and the passing green.
    assert by_colour.get((0xC6, 0x28, 0x28), 0) > 500
    assert by_colour.get((0x2E, 0x7D, 0x32), 0) > 100
    background = max(colours)[0] / (WIDTH * HEIGHT)
    assert background < 0.9


def test_report_command_from_results_file(evaluation: azsecmap.Evaluation, tmp_path: Path) -> None:
    results = tmp_path / "results.parquet"
    write_results(evaluation, results, info=policy_info(azsecmap.PolicyPack.builtin()))
    out = tmp_path / "report.html"
    r = CliRunner().invoke(
        app, ["report", str(results), "-f", "PCI_DSS_v4.0.1", "-f", "MCSB_v1", "-o", str(out)]
    )
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert 'id="fw-PCI_DSS_v4.0.1"' in text and 'id="fw-MCSB_v1"' in text
    assert "NIST_SP_800-53_R5" not in text.split("<main>")[1].split("Top failing")[0]
    r = CliRunner().invoke(app, ["report", str(results), "-f", "NOPE", "-o", str(out)])
    assert r.exit_code == 2 and "NOPE" in r.stderr
    r = CliRunner().invoke(app, ["report", str(tmp_path / "missing.parquet"), "-f", "MCSB_v1"])
    assert r.exit_code == 2 and "missing.parquet" in r.stderr
