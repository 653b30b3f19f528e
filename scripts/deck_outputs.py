#!/usr/bin/env python3
"""An executed notebook, made ready to present: drops what belongs to the interactive session and
not on a screen (stderr: training progress and logs; a cell's bare `()` value), every output
of a cell tagged `no-deck`, and every slide (with its sub-slides) one of whose outputs carries
LEAVE_OUT (`report::html::LEAVE_OUT_OF_DECK`: a slide that could only say what to configure).
Usage: deck_outputs.py EXECUTED.ipynb OUT.ipynb"""
import json, sys
from pathlib import Path

LEAVE_OUT = 'data-deck="leave-out"'


def keep(output):
    if output.get("output_type") == "stream" and output.get("name") == "stderr":
        return False
    data = output.get("data", {})
    if set(data) == {"text/plain"} and "".join(data["text/plain"]).strip() == "()":
        return False
    return True


def slide_type(cell):
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def left_out(cell):
    return any(LEAVE_OUT in "".join(o.get("data", {}).get("text/html", "")) for o in cell.get("outputs", []))


def without_left_out_slides(cells):
    """The cells less every slide (a `slide` cell up to the next one) holding a left-out output."""
    slides = []
    for cell in cells:
        if not slides or slide_type(cell) == "slide":
            slides.append([])
        slides[-1].append(cell)
    return [c for s in slides if not any(left_out(c) for c in s) for c in s]


def main():
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    nb = json.loads(src.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        quiet = "no-deck" in cell.get("metadata", {}).get("tags", [])
        cell["outputs"] = [] if quiet else [o for o in cell["outputs"] if keep(o)]
    nb["cells"] = without_left_out_slides(nb["cells"])
    dst.write_text(json.dumps(nb, indent=1) + "\n")


if __name__ == "__main__":
    main()
