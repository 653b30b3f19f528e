#!/usr/bin/env python3
"""Look at every slide of reveal.js decks the way an audience sees them, and fail on what a
presenter could not show.

Opens each deck in headless Chromium at 1280x720 (Chrome DevTools protocol), steps through every
slide and every fragment, and reports, per slide:
  - content outside the slide (below, right of, above or left of it), in logical pixels;
  - a box whose content is clipped (a table or text wider or taller than its scroll box);
  - code input, an In/Out prompt, stderr output, an error output, or a bare `()` output;
  - text rendered smaller than --min-text logical pixels, a figure shrunk below --min-figure-scale
    of its drawn size (its text would be too small), an image that did not decode;
  - a slide without a heading;
  - an AFFECT_LAB_* environment variable in the slide's text (setup instructions, not content);
  - a row's code name (`resnet18_random`, `minilm_drugscom`) in the slide's text outside `code` and
    `pre` (a command's own report, as on the setup slide; a file name such as resnet18-f37072fd.pth is
    not one either): an audience reads "ResNet18 (random init)";
  - a takeaway (the bold sentence that leads a slide) of more than --max-takeaway words: its
    details belong in the regular type below it.
Writes one PNG per slide (all fragments shown) under --shots/<deck>/ and a contact sheet
--shots/<deck>.contact.png, so a person can look at a whole deck at once.
With --pdf DIR, also prints each deck to DIR/<deck>.pdf from reveal.js's print view (one
1280x720 page per slide, fragments shown).
Exit 1 when any deck has a problem. Needs chromium, websocket-client and Pillow.

Usage: check_slides.py [--shots DIR] [--pdf DIR] [--min-text PX] [--min-figure-scale S] [--max-takeaway N] DECK.html...
"""
import argparse, base64, io, json, os, shutil, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

import websocket  # websocket-client
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1280, 720

# Runs in the page at each step. Coordinates are turned into the deck's logical pixels (the
# slide is WIDTH x HEIGHT whatever reveal's scale), so limits mean the same at any window size.
MEASURE = r"""
(function (minText, minFigure, maxTakeaway) {
  const R = window.Reveal, slide = R.getCurrentSlide(), scale = R.getScale();
  const frame = document.querySelector('.reveal .slides').getBoundingClientRect();
  const fw = R.getConfig().width * scale, fh = R.getConfig().height * scale;
  const fx = frame.left + (frame.width - fw) / 2, fy = frame.top + (frame.height - fh) / 2;
  const hidden = el => el.closest('.fragment:not(.visible)') ||
    getComputedStyle(el).visibility === 'hidden' || getComputedStyle(el).display === 'none';
  const problems = [];
  const add = (kind, detail) => { if (!problems.some(p => p[0] === kind)) problems.push([kind, detail]); };
  const describe = el => {
    const t = (el.innerText || el.alt || el.tagName).trim().replace(/\s+/g, ' ');
    return el.tagName.toLowerCase() + ' "' + t.slice(0, 40) + '"';
  };
  let worst = {bottom: 0, right: 0, top: 0, left: 0}, worstEl = {};
  for (const el of slide.querySelectorAll('*')) {
    if (hidden(el) || el.tagName === 'ASIDE' || el.closest('aside.notes')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const over = {bottom: (r.bottom - fy - fh) / scale, right: (r.right - fx - fw) / scale,
                  top: (fy - r.top) / scale, left: (fx - r.left) / scale};
    for (const k in over) if (over[k] > worst[k]) { worst[k] = over[k]; worstEl[k] = el; }
    const cs = getComputedStyle(el);
    if (/(auto|scroll|hidden)/.test(cs.overflowX) && el.scrollWidth > el.clientWidth + 2)
      add('clipped', describe(el) + ' is ' + el.scrollWidth + ' px wide in a ' + el.clientWidth + ' px box');
    if (/(auto|scroll|hidden)/.test(cs.overflowY) && el.scrollHeight > el.clientHeight + 2)
      add('clipped', describe(el) + ' is ' + el.scrollHeight + ' px tall in a ' + el.clientHeight + ' px box');
    if (el.tagName === 'IMG') {
      if (!el.complete || el.naturalWidth === 0) add('image', 'an image did not decode');
      else {
        const shown = r.width / scale / el.naturalWidth;
        if (shown < minFigure) add('figure', 'a ' + el.naturalWidth + 'x' + el.naturalHeight +
          ' figure is shown at ' + Math.round(shown * 100) + '% of its size (text too small)');
      }
    }
    if (el.matches('.jp-CodeCell .jp-InputArea, .jp-CodeCell .jp-Cell-inputWrapper, .input_area')) add('code', 'code input is shown');
    if (el.matches('.jp-InputPrompt, .jp-OutputPrompt, .prompt') && el.innerText.trim())
      add('prompt', 'prompt "' + el.innerText.trim() + '"');
    if (el.matches('[data-mime-type="application/vnd.jupyter.stderr"], .output_stderr'))
      add('stderr', 'stderr output: "' + el.innerText.trim().slice(0, 60) + '"');
    if (el.matches('[data-mime-type="application/vnd.jupyter.error"], .output_error'))
      add('error', 'error output: "' + el.innerText.trim().slice(0, 60) + '"');
    if (el.matches('.jp-OutputArea-output, .output_text') && el.innerText.trim() === '()')
      add('unit', 'a bare () output');
    for (const n of el.childNodes) {
      if (n.nodeType === 3 && n.textContent.trim()) {
        const px = parseFloat(cs.fontSize);
        if (px < minText) add('small-text', describe(el) + ' at ' + px.toFixed(1) + ' px');
        break;
      }
    }
  }
  for (const k in worst) if (worst[k] > 2)
    add('overflow-' + k, Math.round(worst[k]) + ' px past the ' + k + ' edge (' + describe(worstEl[k]) + ')');
  // an environment variable on a slide is a setup instruction to the presenter, not content
  const setup = (slide.innerText || '').match(/\bAFFECT_LAB_[A-Z_]+/);
  if (setup) add('setup', 'setup instructions on the slide (' + setup[0] + ')');
  const codeName = /\b(emotionnet_v\d|resnet(18|50)(_random)?|mobilenet_v2(_random)?|(minilm|bilstm)_(drugscom|imdb|druglib))\b(?![-.\w])/;
  const walk = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const p = n.parentElement, m = n.textContent.match(codeName);
    if (m && p && !p.closest('code, pre, aside.notes') && !hidden(p)) { add('code-name', 'code name "' + m[0] + '" on the slide'); break; }
  }
  for (const p of slide.querySelectorAll('p.takeaway')) {
    const words = p.innerText.trim().split(/\s+/).length;
    if (!hidden(p) && words > maxTakeaway)
      add('long-takeaway', 'a bold takeaway of ' + words + ' words (at most ' + maxTakeaway + ')');
  }
  const heading = [...slide.querySelectorAll('h1, h2, h3')].find(h => !hidden(h));
  if (!heading) add('no-heading', 'no heading');
  const ix = R.getIndices();
  return JSON.stringify({h: ix.h, v: ix.v || 0, f: ix.f === undefined ? -1 : ix.f,
    title: heading ? heading.innerText.trim() : '', problems: problems,
    moreFragments: R.availableFragments().next, last: R.isLastSlide()});
})
"""


class Browser:
    """One headless Chromium, driven over the DevTools protocol."""

    def __init__(self):
        exe = next((c for c in ["chromium", "chromium-browser", "google-chrome"] if shutil.which(c)), None)
        if not exe:
            sys.exit("check_slides: no chromium on PATH (Debian's `chromium`, or scripts/setup.sh --with-chromium)")
        self.profile = tempfile.TemporaryDirectory()
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--allow-file-access-from-files", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile.name}", f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile.name) / "DevToolsActivePort"
        for _ in range(300):
            if port_file.is_file() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        else:
            sys.exit("check_slides: chromium did not start")
        port = port_file.read_text().split()[0]
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(p for p in pages if p["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=120, suppress_origin=True)
        self.next_id = 0
        self.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"].get("exception", {}).get("description", str(r["exceptionDetails"])))
        return r["result"].get("value")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self):
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.profile.cleanup()


def wait_for(browser, expr, what, seconds=60):
    for _ in range(seconds * 10):
        if browser.eval(expr):
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def open_deck(browser, deck, query=""):
    """Load a deck and wait until reveal.js runs and every image has loaded."""
    browser.call("Page.navigate", url=deck.resolve().as_uri() + query)
    wait_for(browser, "document.readyState === 'complete' && !!window.Reveal && window.Reveal.isReady()",
             "reveal.js to start (the deck must expose window.Reveal)")
    wait_for(browser, "[...document.images].every(i => i.complete)", "images to load")


def check_deck(browser, deck, shots, min_text, min_figure, max_takeaway):
    """Visit every slide and fragment; returns (slides, problem lines) and writes the PNGs."""
    open_deck(browser, deck)
    # no transitions: every step is measured and shot in its final state
    browser.eval("""(() => { const s = document.createElement('style');
      s.textContent = '*, *::before, *::after { transition: none !important; animation: none !important; }';
      document.head.appendChild(s); Reveal.configure({transition: 'none', backgroundTransition: 'none'});
      Reveal.slide(0, 0, -1); return true; })()""")
    out = shots / deck.name.removesuffix(".html").removesuffix(".slides")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    problems, pngs = {}, []
    measure = f"{MEASURE}({min_text}, {min_figure}, {max_takeaway})"
    for _ in range(2000):
        time.sleep(0.05)
        state = json.loads(browser.eval(measure))
        for kind, detail in state["problems"]:
            # one line per slide and kind: the first fragment that shows it
            key = (state["h"], state["v"], kind)
            fragment = f" (fragment {state['f']})" if state["f"] >= 0 else ""
            problems.setdefault(key, f"slide {state['h']}.{state['v']} \"{state['title'][:40]}\"{fragment}: {kind}: {detail}")
        if state["moreFragments"]:
            browser.eval("Reveal.nextFragment()")
            continue
        png = out / f"slide-{state['h']:02d}-{state['v']:02d}.png"
        browser.screenshot(png)
        pngs.append((png, f"{state['h']}.{state['v']} {state['title']}"))
        if state["last"]:
            break
        browser.eval("Reveal.next()")
    contact_sheet(pngs, shots / f"{out.name}.contact.png")
    return len(pngs), list(problems.values())


def print_pdf(browser, deck, path):
    """reveal.js's print view (`?print-pdf`) printed by Chromium, one 1280x720 page per slide."""
    open_deck(browser, deck, "?print-pdf")
    time.sleep(1)
    pdf = browser.call("Page.printToPDF", printBackground=True, preferCSSPageSize=True,
                       paperWidth=WIDTH / 96, paperHeight=HEIGHT / 96, marginTop=0, marginBottom=0,
                       marginLeft=0, marginRight=0)["data"]
    path.write_bytes(base64.b64decode(pdf))


def contact_sheet(pngs, path, columns=5, thumb=(384, 216)):
    rows = (len(pngs) + columns - 1) // columns
    label_h = 22
    sheet = Image.new("RGB", (columns * (thumb[0] + 8) + 8, rows * (thumb[1] + label_h + 8) + 8), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=15) if hasattr(ImageFont, "load_default") else None
    for i, (png, label) in enumerate(pngs):
        x = 8 + (i % columns) * (thumb[0] + 8)
        y = 8 + (i // columns) * (thumb[1] + label_h + 8)
        im = Image.open(png).convert("RGB")
        im.thumbnail(thumb)
        sheet.paste(im, (x, y + label_h))
        draw.rectangle([x - 1, y + label_h - 1, x + thumb[0], y + label_h + thumb[1]], outline=(180, 180, 180))
        draw.text((x, y + 2), label[:44], fill="black", font=font)
    sheet.save(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("decks", nargs="+", type=Path)
    ap.add_argument("--shots", type=Path, help="where the slide PNGs and contact sheets go (default: beside each deck, shots/)")
    ap.add_argument("--pdf", type=Path, help="also print every deck to a PDF in this folder")
    ap.add_argument("--min-text", type=float, default=16, help="smallest text, in logical px of a 1280x720 slide")
    ap.add_argument("--min-figure-scale", type=float, default=0.8,
                    help="smallest display scale of a figure (the figures draw their smallest text at 20 px)")
    ap.add_argument("--max-takeaway", type=int, default=32, help="most words in a slide's bold takeaway")
    args = ap.parse_args()
    browser = Browser()
    failed = False
    try:
        for deck in args.decks:
            if not deck.is_file():
                print(f"{deck}: no such deck", file=sys.stderr)
                failed = True
                continue
            shots = args.shots or deck.parent / "shots"
            shots.mkdir(parents=True, exist_ok=True)
            try:
                n, problems = check_deck(browser, deck, shots, args.min_text, args.min_figure_scale, args.max_takeaway)
            except RuntimeError as e:
                print(f"{deck}: {e}", file=sys.stderr)
                failed = True
                continue
            print(f"{deck.name}: {n} slides, {len(problems)} problems; slides and contact sheet in {shots}")
            if args.pdf:
                args.pdf.mkdir(parents=True, exist_ok=True)
                pdf = args.pdf / (deck.name.removesuffix(".html").removesuffix(".slides") + ".pdf")
                print_pdf(browser, deck, pdf)
                print(f"  printed {pdf} ({pdf.stat().st_size // 1024} KB)")
            for p in problems:
                print(f"  {p}")
            failed |= bool(problems)
    finally:
        browser.close()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
