"""The student guide in the kit: docs/students.md and the pictures it shows.

The pictures are screenshots of module 01's notebook being solved (tests/e2e/test_course_cycle.py
takes them), so some of them show that module's solution, and no leak scan can read a picture.
They ship once the instructor publishes that module; until then (a course publishes nothing by
default) the kit's guide goes without them: each picture, its caption and the paragraph that
introduces the pictures are left out.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

GUIDE = Path("docs") / "students.md"
PICTURED_MODULE = "01_tensor"  # the module the browser test solves on screen
PICTURE = re.compile(r"^!\[[^\]]*\]\((?P<path>[^)\s]+)\)\s*$")
ABOUT_PICTURES = "The pictures in this guide "  # how the paragraph that introduces them starts


def copy_guide(root: Path, dest: Path, published: set[str]) -> None:
    """Write `dest/docs/students.md`, with its pictures only if PICTURED_MODULE is published."""
    text = (root / GUIDE).read_text(encoding="utf-8")
    target = dest / GUIDE
    target.parent.mkdir(parents=True, exist_ok=True)
    if PICTURED_MODULE not in published:
        target.write_text(without_pictures(text), encoding="utf-8")
        return
    for picture in pictures(text):
        copy = target.parent / picture
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / GUIDE.parent / picture, copy)
    target.write_text(text, encoding="utf-8")


def pictures(text: str) -> list[str]:
    """The paths of the guide's pictures (each on a line of its own), relative to docs/."""
    return [match["path"] for match in map(PICTURE.match, text.splitlines()) if match]


def without_pictures(text: str) -> str:
    """The guide without its pictures, their captions (the italic paragraph under each) and the
    paragraph about them (one that starts with ABOUT_PICTURES)."""
    kept, after_picture = [], False
    for paragraph in text.split("\n\n"):
        if paragraph.startswith(ABOUT_PICTURES):
            after_picture = False
        elif PICTURE.match(paragraph.strip()):
            after_picture = True
        elif after_picture and paragraph.startswith("*"):
            after_picture = False
        else:
            after_picture = False
            kept.append(paragraph)
    return "\n\n".join(kept).rstrip("\n") + "\n"
