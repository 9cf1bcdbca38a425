"""The generated crawl can point at a local image server (``--image-host``), so the README's
extract -> curate -> download -> train path runs offline with real pixels."""

from __future__ import annotations

import io
import threading
import urllib.request

from PIL import Image

from curation.commoncrawl.extract import extract_file
from curation.commoncrawl.sample import render_image, serve, write_sample
from curation.commoncrawl.settings import ExtractSettings


def test_every_image_url_resolves_to_the_local_server_and_is_served(tmp_path):
    server = serve("127.0.0.1", 0)
    host = f"127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        written = write_sample(str(tmp_path), n_pages=40, n_files=1, formats=("wat",), image_host=host)
        out = extract_file(written["wat"][0], ExtractSettings(source="wat").validate())
        urls = [row["url"] for row in out if row["kind"] == "row"]
        assert urls and all(u.startswith(f"http://{host}/") for u in urls)
        jpgs = [u for u in urls if u.split("?")[0].endswith(".jpg")][:3]
        for url in jpgs:
            with urllib.request.urlopen(url, timeout=10) as resp:
                img = Image.open(io.BytesIO(resp.read()))
                assert img.size == (96, 96)
        with urllib.request.urlopen(jpgs[0], timeout=10) as resp:  # deterministic per path
            assert resp.read() == render_image(jpgs[0].split(host, 1)[1].split("?")[0])
    finally:
        server.shutdown()
