"""The report renders in a real headless browser (Chromium from Debian): a full-page screenshot
that is neither blank nor cut short. Skipped where no Chromium is installed
(Debian: apt-get install -y chromium)."""

from __future__ import annotations

import pytest

from .conftest import REPO, chromium, run

pytest.importorskip("matplotlib")


@pytest.mark.slow
def test_report_renders_in_headless_chromium(reference_output, tmp_path):
    if chromium() is None:
        pytest.skip("no Chromium on this machine (apt-get install -y chromium)")
    from PIL import Image

    from curation.report import build_report

    html = build_report(reference_output["root"], str(tmp_path / "report.html"))
    png = tmp_path / "report.png"
    run(["bash", str(REPO / "scripts" / "report_screenshot.sh"), html, str(png), "1200", "4000"], timeout=120)
    rgb = Image.open(png).convert("RGB")
    image = rgb.convert("L")
    assert image.size == (1200, 4000)
    # the page is drawn: many non-background pixels, and content far down the page (the plots)
    pixels = image.load()
    dark_rows = [y for y in range(0, 4000, 10) if any(pixels[x, y] < 128 for x in range(0, 1200, 4))]
    assert len(dark_rows) > 150, "screenshot looks blank"
    assert max(dark_rows) > 3000, "the page ends too early: plots missing?"
    colors = rgb.resize((300, 1000)).getcolors(maxcolors=1 << 16)
    assert colors is None or len(colors) > 50  # plots bring colour; a text-only page has few
