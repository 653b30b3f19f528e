#!/usr/bin/env python3
"""An executed notebook, made ready to present: drops what belongs to the interactive session and
not on a screen (stderr: training progress and logs; a cell's bare `()` value), and every output
of a cell tagged `no-deck`. Usage: deck_outputs.py EXECUTED.ipynb OUT.ipynb"""
import json, sys
from pathlib import Path


def keep(output):
    if output.get("output_type") == "stream" and output.get("name") == "stderr":
        return False
    data = output.get("data", {})
    if set(data) == {"text/plain"} and "".join(data["text/plain"]).strip() == "()":
        return False
    return True


def main():
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    nb = json.loads(src.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        quiet = "no-deck" in cell.get("metadata", {}).get("tags", [])
        cell["outputs"] = [] if quiet else [o for o in cell["outputs"] if keep(o)]
    dst.write_text(json.dumps(nb, indent=1) + "\n")


if __name__ == "__main__":
    main()
