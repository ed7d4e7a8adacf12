"""Every docs page names only files that exist: each backticked repository path (under tito/,
tests/, docs/, source/, checkpoints/, benchmarks/, tinytorch/ or release/) in docs/*.md, the READMEs
and source/AUTHORING.md is a file or folder of the repository, or one the course writes at run
time and git ignores. A page's own folder is tried first (tito/README.md names `grade/run.py`)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tito import course

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted(REPO.glob("docs/*.md")) + [REPO / "README.md", REPO / "tito" / "README.md", REPO / "source" / "AUTHORING.md"]
TICKED = re.compile(r"`([\w./-]+)`")
PLACEHOLDER = re.compile(r"NN|\.\.\.")  # source/NN_name/...: a pattern, not a file
REPOSITORY_DIRS = ("tito", "tests", "docs", "source", "checkpoints", "benchmarks", "tinytorch", "release")


def named_paths(page: Path) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        for token in TICKED.findall(line):
            path = token.rstrip(".")
            if "/" in path and not PLACEHOLDER.search(path) and path.split("/")[0] in REPOSITORY_DIRS + tuple(
                    p.name for p in page.parent.iterdir() if p.is_dir()):
                found.append((number, path))
    return found


PUBLISHED = f"{course.RELEASE}/{course.PUBLISHED_DIR}"  # written by `tito release` once a module is published


def written_at_run_time(path: str) -> bool:
    """The published reference, or what git ignores (test artifacts, grading scratch)."""
    return (path.startswith(PUBLISHED)
            or subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO).returncode == 0)


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="needs the git repository (what is ignored)")
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_backticked_path_exists(page: Path) -> None:
    missing = [f"{page.relative_to(REPO)}:{number}: {path}" for number, path in named_paths(page)
               if not (page.parent / path).exists() and not (REPO / path).exists() and not written_at_run_time(path)]
    assert missing == []


def test_the_check_sees_the_paths_it_is_meant_to() -> None:
    assert "release/generate.py" in [path for _, path in named_paths(REPO / "tito" / "README.md")]  # tito/release/
    assert all("NN" not in path for _, path in named_paths(REPO / "source" / "AUTHORING.md"))
