"""The autograder's settings come from nbgrader_config.py; the course secret and the seeds.

The limits the sandbox enforces are the ones the config states (the per-cell timeout is nbgrader's
own `c.Execute.timeout`), a bad value is an error that names the file, and each submission's seed
is a function of the secret, the student, the module and the exact files submitted.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tito.errors import TitoError
from tito.grade import config
from tito.grade.secret import course_secret, submission_seed

REPO = Path(__file__).resolve().parents[1]


def course_with(tmp_path: Path, *lines: str) -> Path:
    shutil.copy(REPO / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    with (tmp_path / "nbgrader_config.py").open("a") as handle:
        handle.write("".join(line + "\n" for line in lines))
    return tmp_path


def test_the_shipped_config_states_the_limits_the_sandbox_gets():
    settings = config.load(REPO)
    limits = settings.limits
    assert (limits.cell_timeout, limits.notebook_timeout, settings.cases_timeout) == (60.0, 900.0, 60.0)
    assert (limits.memory_bytes, limits.cpu_seconds, limits.processes) == (2 * 2**30, 600, 64)
    assert (limits.file_size_bytes, limits.open_files, limits.output_bytes) == (64 * 2**20, 256, 2**20)
    assert settings.secret_file == REPO / ".tito" / "course-secret"
    assert settings.earlier_modules == "published"


def test_a_course_changes_them_in_its_config(tmp_path):
    root = course_with(tmp_path, "c.Execute.timeout = 5", "c.Grading.memory_mb = 512",
                       "c.Grading.cases_timeout = 7.5", 'c.Grading.earlier_modules = "student"')
    settings = config.load(root)
    assert settings.limits.cell_timeout == 5.0 and settings.limits.memory_bytes == 512 * 2**20
    assert settings.cases_timeout == 7.5 and settings.earlier_modules == "student"


@pytest.mark.parametrize("line, message", [
    ('c.Grading.memory_mb = "lots"', "The 'memory_mb' trait of a Grading instance expected an int"),
    ('c.Grading.earlier_modules = "mine"', "The 'earlier_modules' trait of a Grading instance expected any of"),
    ("c.Execute.timeout = -1", "c.Execute.timeout, c.Grading.notebook_timeout and c.Grading.cases_timeout must "
                               "be positive numbers of seconds"),
])
def test_a_bad_value_is_an_error_that_names_the_file(tmp_path, line, message):
    with pytest.raises(TitoError) as error:
        config.load(course_with(tmp_path, line))
    assert str(error.value).startswith("nbgrader_config.py: ") and message in str(error.value)


def test_the_secret_is_made_once_private_and_kept(tmp_path):
    path = tmp_path / ".tito" / "course-secret"
    first = course_secret(path)
    assert len(first) == 32 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert course_secret(path) == first


def test_an_unreadable_secret_is_an_error_that_says_what_to_do(tmp_path):
    path = tmp_path / "course-secret"
    path.write_text("not hex at all\n")
    with pytest.raises(TitoError, match=r"course-secret: the course secret is unreadable .*restore it from a backup"):
        course_secret(path)


def test_the_seed_depends_on_the_secret_the_student_the_module_and_the_files():
    secret = bytes(range(32))
    seed = submission_seed(secret, "ada", "02_activations", "ab" * 32)
    assert seed == submission_seed(secret, "ada", "02_activations", "ab" * 32)
    assert 0 <= seed < 2**63
    others = {submission_seed(bytes(32), "ada", "02_activations", "ab" * 32),
              submission_seed(secret, "bob", "02_activations", "ab" * 32),
              submission_seed(secret, "ada", "03_layers", "ab" * 32),
              submission_seed(secret, "ada", "02_activations", "cd" * 32)}
    assert seed not in others and len(others) == 4
