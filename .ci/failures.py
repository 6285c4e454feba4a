"""Print the tests that failed in the tox environments, from the JUnit XML
files pytest wrote in ``.tox/junit/`` (see tox.ini), so that the end of a
failed CI log names them, whatever was cut from the middle."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main(directory: Path) -> int:
    found = 0
    for path in sorted(directory.glob("*.xml")):
        for case in ET.parse(path).iter("testcase"):
            for problem in (*case.iter("failure"), *case.iter("error")):
                found += 1
                message = (problem.get("message") or "").strip().splitlines()
                print(
                    f"{path.stem}: {case.get('classname')}::{case.get('name')}"
                    f" ({problem.tag}): {message[0][:300] if message else ''}"
                )
                text = (problem.text or "").strip().splitlines()
                for line in text[-15:]:
                    print(f"    {line}")
    if not found:
        print(f"no failed test in {directory}/*.xml")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".tox/junit")))
