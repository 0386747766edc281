"""Compare the numbers two executions of the chapters printed, line by line.

Usage::

    python tests/compare_notebook_numbers.py BEFORE_DIR AFTER_DIR [--all]

Each directory holds executed copies of the chapter notebooks (same file
names).  For every code cell the printed text (stdout and plain-text results;
not stderr, not the source listings of ``show_source``) is split into lines,
and lines whose numbers differ are reported, cell by cell.  Lines that carry
timings (seconds, minutes, rates) differ from run to run; they are counted
separately and listed only with ``--all``.  The exit status is 1 if any other
number moved.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

# Memory addresses and file time stamps change with every run.
VOLATILE = re.compile(r"0x[0-9a-f]+|tfevents\.\d+\.[\w.-]+")
NUMBER = re.compile(r"[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
# Words that mark a printed timing or a machine-dependent rate.
TIMING = re.compile(r"\b(s|ms|us|seconds?|minutes?|min|digits/s|queries/s|per second|"
                    r"examples/s|updates/s|x scikit-learn|time|load average)\b|\d\s?s\b|\d+s\b",
                    re.I)


def printed_lines(cell: dict) -> list[str]:
    """The text a code cell printed: stdout streams and text/plain results."""
    lines = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            text = output.get("text", "")
        elif output.get("output_type") in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "text/markdown" in data or "image/png" in data:
                continue  # source listings (line numbers move) and figures
            text = data.get("text/plain", "")
        else:
            continue
        text = "".join(text) if isinstance(text, list) else text
        lines += [VOLATILE.sub("<volatile>", line) for line in text.splitlines()
                  if NUMBER.search(line)]
    return lines


def compare(before: Path, after: Path, show_all: bool) -> int:
    moved = timings = same = 0
    for old_path in sorted(before.glob("*.ipynb")):
        new_path = after / old_path.name
        if not new_path.exists():
            print(f"{old_path.name}: missing in {after}")
            moved += 1
            continue
        old_cells = [c for c in json.loads(old_path.read_text())["cells"] if c["cell_type"] == "code"]
        new_cells = [c for c in json.loads(new_path.read_text())["cells"] if c["cell_type"] == "code"]
        if len(old_cells) != len(new_cells):
            print(f"{old_path.name}: {len(old_cells)} code cells before, {len(new_cells)} after")
        for index, (old, new) in enumerate(zip(old_cells, new_cells)):
            a, b = printed_lines(old), printed_lines(new)
            for k in range(max(len(a), len(b))):
                line_a = a[k] if k < len(a) else "<none>"
                line_b = b[k] if k < len(b) else "<none>"
                if NUMBER.findall(line_a) == NUMBER.findall(line_b):
                    same += 1
                    continue
                is_timing = bool(TIMING.search(line_a) and TIMING.search(line_b))
                timings += is_timing
                moved += not is_timing
                if show_all or not is_timing:
                    tag = "timing" if is_timing else "MOVED"
                    print(f"{old_path.name} code cell {index} [{tag}]\n  before: {line_a}\n"
                          f"  after:  {line_b}")
    print(f"\n{same} printed lines identical, {timings} timing lines differ, "
          f"{moved} other lines differ")
    return 1 if moved else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--all", action="store_true", help="also list the timing lines")
    args = parser.parse_args()
    sys.exit(compare(args.before, args.after, args.all))


if __name__ == "__main__":
    main()
