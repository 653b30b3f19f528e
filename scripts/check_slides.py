#!/usr/bin/env python3
"""Open a reveal.js deck in headless Chromium, screenshot a slide that holds a figure, and
check that every <img> decoded (naturalWidth > 0). Exit 1 on any failure.
Usage: check_slides.py DECK.html [SCREENSHOT.png]"""
import re, shutil, subprocess, sys, tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--allow-file-access-from-files"]

# Runs in the page after load: report every image's natural size, and the index of the first
# slide (section) holding an image so we can screenshot it.
PROBE = """<script>
window.addEventListener('load', function () {
  setTimeout(function () {
    var imgs = Array.prototype.slice.call(document.images);
    var sizes = imgs.map(function (i) { return i.naturalWidth + 'x' + i.naturalHeight; });
    var secs = Array.prototype.slice.call(document.querySelectorAll('.slides > section'));
    var first = secs.findIndex(function (s) { return s.querySelector('img'); });
    var el = document.createElement('pre');
    el.id = 'imgcheck';
    el.textContent = 'IMGCHECK ' + JSON.stringify({sizes: sizes, first: first, slides: secs.length});
    document.body.appendChild(el);
  }, 1500);
});
</script>"""


def chromium():
    for c in ["chromium", "chromium-browser", "google-chrome"]:
        if shutil.which(c):
            return c
    sys.exit("check_slides: no chromium on PATH (install Debian's `chromium`, or run scripts/setup.sh --with-chromium)")


def main():
    deck = Path(sys.argv[1]).resolve()
    shot = Path(sys.argv[2]) if len(sys.argv) > 2 else deck.with_suffix(".png")
    html = deck.read_text()
    probe = deck.with_name(".probe-" + deck.name)
    probe.write_text(html.replace("</body>", PROBE + "</body>"))
    with tempfile.TemporaryDirectory() as prof:
        dom = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={prof}", "--virtual-time-budget=15000",
                              "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=180).stdout
    probe.unlink()
    m = re.search(r"IMGCHECK (\{.*?\})</pre>", dom)
    if not m:
        sys.exit(f"check_slides: {deck.name}: the probe did not run (page failed to load)")
    import json
    info = json.loads(m.group(1).replace("&quot;", '"'))
    sizes = info["sizes"]
    bad = [s for s in sizes if s.startswith("0x") or s.endswith("x0")]
    print(f"{deck.name}: {info['slides']} slides, {len(sizes)} images, {len(bad)} undecoded, first figure on slide {info['first']}")
    if not sizes or bad:
        sys.exit(1)
    with tempfile.TemporaryDirectory() as prof:
        subprocess.run([chromium(), *FLAGS, f"--user-data-dir={prof}", "--virtual-time-budget=15000",
                        "--window-size=1280,800", f"--screenshot={shot.resolve()}", deck.as_uri() + f"#/{info['first']}"],
                       capture_output=True, timeout=180)
    if not shot.is_file() or shot.stat().st_size < 5000:
        sys.exit(f"check_slides: screenshot {shot} missing or blank")
    print(f"screenshot of slide {info['first']}: {shot} ({shot.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
