"""`tito collect exchange` trusts unix owners, not folder names, and never follows a link.

Real unix users, made here with `useradd` (root only) and removed after, submit through nbgrader's
own ExchangeSubmit, each in a forked process that has dropped to its uid; the exchange is a temp
folder with nbgrader's permissions (root 0777, inbound 0733). In CI a host that cannot make users
fails these tests instead of skipping them.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODULE = "05_autograd"
SECRET = "TOP-SECRET-SOLUTION-7f3a"  # in a root-only file of the course's source/


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must be able to run this test: {reason}")
    pytest.skip(reason)


@pytest.fixture
def users():
    """make(n) -> n fresh unix users (named like student ids), removed after the test."""
    if os.geteuid() != 0:
        _missing("making unix users needs root")
    if not shutil.which("useradd") or not shutil.which("userdel"):
        _missing("useradd/userdel are not installed")
    made: list[str] = []

    def make(count: int) -> list[str]:
        names = []
        for _ in range(count):
            name = "t9" + secrets.token_hex(4)
            subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name],
                           check=True, capture_output=True)
            made.append(name)
            names.append(name)
        return names

    yield make
    for name in made:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture
def class_exchange(tmp_path_factory):
    """A course (root-only, as an instructor's) and an exchange students can write, module
    05_autograd released into it."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from tito.release import load_config

    base = Path(tempfile.mkdtemp(prefix="tt-exchange-", dir="/tmp"))
    base.chmod(0o755)
    exchange = base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    root = base / "course"
    root.mkdir(mode=0o700)
    config = (REPO / "nbgrader_config.py").read_text() + f"\nc.Exchange.root = {str(exchange)!r}\n"
    (root / "nbgrader_config.py").write_text(config)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("nbgrader.api.get_alembic_version", _alembic_head)
        Gradebook(f"sqlite:///{root / 'gradebook.db'}", "tinytorch").close()
    shutil.copytree(REPO / "release" / MODULE, root / "release" / MODULE)
    secret = root / "source" / MODULE / "solution.txt"  # what a link must never carry out
    secret.parent.mkdir(parents=True)
    secret.write_text(SECRET)
    secret.chmod(0o600)
    cfg = load_config(root)
    result = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg).release_assignment(MODULE)
    assert result["success"], result
    assert (exchange / "tinytorch" / "inbound").stat().st_mode & 0o777 == 0o733  # nbgrader's
    yield base, root, exchange, secret
    shutil.rmtree(base, ignore_errors=True)


def _alembic_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite:///unused.db") as ini:
        return ScriptDirectory.from_config(Config(ini)).get_current_head()


def _as_user(user: str, base: Path, root: Path, edit: bytes, *, claim: str | None = None, then=None) -> None:
    """As unix user `user` (a forked child that dropped root): fetch, edit and submit the module
    with nbgrader's ExchangeSubmit, under `claim` (nbgrader submit --student) or the own name;
    then `then(inbound_folder)` still as that user."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit

    from tito.release import load_config

    entry = pwd.getpwnam(user)
    home = base / f"home-{user}"
    home.mkdir(exist_ok=True)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    config = load_config(root)
    config.Exchange.assignment_dir = str(home)
    config.Exchange.cache = str(home / ".cache")
    inbound = Path(config.Exchange.root) / "tinytorch" / "inbound"
    pid = os.fork()
    if pid == 0:  # the student
        status = 1
        try:
            os.setgroups([])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            os.environ.update(HOME=str(home), USER=user, LOGNAME=user)
            os.chdir(home)
            coursedir = CourseDirectory(config=config)
            coursedir.assignment_id = MODULE
            if claim:
                coursedir.student_id = claim
            authenticator = Authenticator(config=config)
            if not (home / MODULE).exists():
                ExchangeFetchAssignment(coursedir=coursedir, authenticator=authenticator, config=config).start()
            notebook = home / MODULE / f"{MODULE}.ipynb"
            notebook.write_bytes(notebook.read_bytes().replace(b"# YOUR CODE HERE", b"# " + edit, 1))
            app = ExchangeSubmit(coursedir=coursedir, authenticator=authenticator, config=config)
            app.start()
            if then is not None:
                then(inbound / app.assignment_filename)
            status = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, f"{user}'s submission failed"


def _folders(exchange: Path, student: str) -> list[str]:
    return sorted(p.name for p in (exchange / "tinytorch" / "inbound").glob(f"{student}+{MODULE}+*"))


@pytest.mark.slow
def test_exchange_refuses_other_owners_and_never_follows_links(users, class_exchange, capsys) -> None:
    from tito.collect.__main__ import main as collect_main
    from tito.collect.exchange import Refusal, collect_from_exchange

    base, root, exchange, secret = class_exchange
    alice, bob, mallory, carol, dave, eve = users(6)

    _as_user(alice, base, root, b"alice's own work")
    _as_user(bob, base, root, b"bob's own work")
    # mallory plants a later submission under bob's name (nbgrader submit --student bob)
    _as_user(mallory, base, root, b"mallory pretending to be bob", claim=bob)
    planted = [name for name in _folders(exchange, bob) if (exchange / "tinytorch" / "inbound" / name).stat().st_uid
               == pwd.getpwnam(mallory).pw_uid]
    assert len(planted) == 1 and planted[0] == _folders(exchange, bob)[-1]  # the newest under bob's name

    # carol adds links to the instructor's source/ (a file and the folder) and /etc/shadow
    def links(folder: Path) -> None:
        (folder / "leak-file").symlink_to(secret)
        (folder / "leak-dir").symlink_to(secret.parent)
        (folder / "leak-shadow").symlink_to("/etc/shadow")
    _as_user(carol, base, root, b"carol's own work", then=links)

    # dave's folder holds a file that is not dave's (a hard link to another user's file looks so)
    _as_user(dave, base, root, b"dave's own work")
    dave_folder = exchange / "tinytorch" / "inbound" / _folders(exchange, dave)[0]
    os.chown(dave_folder / f"{MODULE}.ipynb", pwd.getpwnam(eve).pw_uid, -1)

    # a name nbgrader's collect cannot parse (stock nbgrader fails the whole collect on it)
    garbage = exchange / "tinytorch" / "inbound" / f"{mallory}+{MODULE}+not-a-time"
    garbage.mkdir()
    os.chown(garbage, pwd.getpwnam(mallory).pw_uid, -1)

    report = collect_from_exchange(root, MODULE)

    assert [(s.student, s.status) for s in report.students] == sorted(
        [(alice, "new"), (bob, "new"), (carol, "new")])
    assert sorted(report.refused, key=lambda r: r.folder) == sorted([
        Refusal(bob, planted[0], f"the folder is owned by {mallory}, not by {bob}, the unix user of student {bob}"),
        Refusal(dave, dave_folder.name,
                f"{MODULE}.ipynb is owned by {eve}, not by {dave}, the unix user of student {dave}"),
        Refusal("", garbage.name, "the name is not <student>+<module>+<timestamp>[+<random>]"),
    ], key=lambda r: r.folder)
    submitted = root / "submitted"
    # bob's own submission is collected, mallory's plant is not
    assert b"# bob's own work" in (submitted / bob / MODULE / f"{MODULE}.ipynb").read_bytes()
    assert b"mallory" not in (submitted / bob / MODULE / f"{MODULE}.ipynb").read_bytes()
    assert b"# alice's own work" in (submitted / alice / MODULE / f"{MODULE}.ipynb").read_bytes()
    assert not (submitted / dave).exists() and not (submitted / mallory).exists()
    # carol's notebook without the links; no target's content anywhere under submitted/
    carol_files = sorted(p.name for p in (submitted / carol / MODULE).iterdir())
    assert carol_files == [f"{MODULE}.ipynb", "submission_secret.txt", "timestamp.txt"]  # as nbgrader submits
    carol_row = next(s for s in report.students if s.student == carol)
    assert carol_row.notes == [f"{name}: a symbolic link, left out (not followed)"
                               for name in ("leak-dir", "leak-file", "leak-shadow")]
    shadow = Path("/etc/shadow").read_bytes()
    for path in submitted.rglob("*"):
        assert not path.is_symlink(), path
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in data and (not shadow.strip() or shadow not in data), path
    assert not list(submitted.rglob("*.collecting"))

    # the CLI: the refusals in the report, and in the exit status
    capsys.readouterr()
    assert collect_main(["--root", str(root), "exchange", "--module", MODULE]) == 1
    captured = capsys.readouterr()
    assert "refused, not collected" in captured.out
    assert planted[0] in captured.out and f"owned by {mallory}, not by {bob}" in captured.out
    assert "refused 3 inbound folder(s)" in captured.err


@pytest.mark.slow
def test_a_backdated_submission_is_collected_at_the_time_its_files_changed(users, class_exchange) -> None:
    """The folder's name and its timestamp.txt are written by the student's own process, so
    either can claim any time; the files' change time (ctime) cannot be set back by their owner."""
    from nbgrader.utils import parse_utc

    from tito.collect.exchange import collect_from_exchange

    base, root, exchange, _ = class_exchange
    honest, backdater, stamp_forger = users(3)
    claim = "2020-01-01 00:00:00.000000 UTC"
    _as_user(honest, base, root, b"on time")
    honest_stamp = (exchange / "tinytorch" / "inbound" / _folders(exchange, honest)[0] / "timestamp.txt").read_text()

    def backdate(folder: Path) -> None:  # after the deadline: an early name and an early timestamp.txt
        (folder / "timestamp.txt").write_text(claim)
        folder.rename(folder.with_name(f"{backdater}+{MODULE}+{claim}+{folder.name.rsplit('+', 1)[-1]}"))

    def forge_stamp(folder: Path) -> None:  # the name as nbgrader wrote it, an early timestamp.txt
        (folder / "timestamp.txt").write_text(claim)

    started = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=1)
    _as_user(backdater, base, root, b"after the deadline", then=backdate)
    _as_user(stamp_forger, base, root, b"also after it", then=forge_stamp)
    forger_folder = _folders(exchange, stamp_forger)[0]
    forger_time = forger_folder.split("+")[2]

    report = collect_from_exchange(root, MODULE)
    rows = {row.student: row for row in report.students}
    submitted = root / "submitted"

    assert (submitted / honest / MODULE / "timestamp.txt").read_text() == honest_stamp and rows[honest].notes == []
    collected = (submitted / backdater / MODULE / "timestamp.txt").read_text()
    assert parse_utc(collected) >= started and rows[backdater].timestamp == collected
    backdated_folder = _folders(exchange, backdater)[0]
    assert rows[backdater].notes == [
        f"{backdated_folder}: claims {claim}, but its files last changed at {collected}: collected as submitted then",
        f"timestamp.txt: said {claim}, earlier than the folder's time; written as {collected}"]
    assert (submitted / stamp_forger / MODULE / "timestamp.txt").read_text() == forger_time
    assert rows[stamp_forger].notes == [
        f"timestamp.txt: said {claim}, earlier than the folder's time; written as {forger_time}"]


@pytest.mark.slow
def test_exchange_user_mapping_is_configurable(users, class_exchange) -> None:
    """`c.SafeExchangeCollect.unix_user` names the student's unix user; `unix_users` maps one
    student explicitly. A student without a unix user is refused."""
    from tito.collect.exchange import Refusal, collect_from_exchange

    base, root, exchange, _ = class_exchange
    (hub_alice, frank) = users(2)
    student = hub_alice[len("t9"):]  # the student id is the unix name without the prefix "t9"
    _as_user(hub_alice, base, root, b"mapped by the template", claim=student)
    _as_user(frank, base, root, b"frank, mapped explicitly", claim="s-frank")
    _as_user(frank, base, root, b"frank under a student with no unix user", claim="s-nobody")
    with (root / "nbgrader_config.py").open("a") as config:
        config.write('\nc.SafeExchangeCollect.unix_user = "t9{student}"\n'
                     f'c.SafeExchangeCollect.unix_users = {{"s-frank": {frank!r}}}\n')
    report = collect_from_exchange(root, MODULE)
    assert sorted((s.student, s.status) for s in report.students) == sorted([(student, "new"), ("s-frank", "new")])
    assert report.refused == [Refusal("s-nobody", _folders(exchange, "s-nobody")[0],
                                      "there is no unix user t9s-nobody for student s-nobody "
                                      "(c.SafeExchangeCollect.unix_user / unix_users)")]


@pytest.mark.slow
def test_stock_nbgrader_collect_uses_the_owner_check(users, class_exchange) -> None:
    """With `c.ExchangeFactory.collect = "tito.collect.exchange.SafeExchangeCollect"` in
    nbgrader_config.py, stock `nbgrader collect` (and formgrader's collect button, the same API)
    refuses a planted folder too, and ends with an error after collecting the others."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from tito.release import load_config

    base, root, exchange, _ = class_exchange
    alice, bob, mallory = users(3)
    _as_user(alice, base, root, b"alice's own work")
    _as_user(mallory, base, root, b"mallory pretending to be bob", claim=bob)
    with (root / "nbgrader_config.py").open("a") as config:
        config.write('\nc.ExchangeFactory.collect = "tito.collect.exchange.SafeExchangeCollect"\n')
    cfg = load_config(root)
    result = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg).collect(MODULE)
    planted = _folders(exchange, bob)[0]
    assert not result["success"]
    assert (f"refused 1 inbound folder(s), not collected: {planted} (student {bob}): the folder is owned by "
            f"{mallory}, not by {bob}, the unix user of student {bob}") in result["log"]
    assert (root / "submitted" / alice / MODULE / f"{MODULE}.ipynb").is_file()
    assert not (root / "submitted" / bob).exists()


@pytest.mark.slow
def test_exchange_special_entries(users, class_exchange) -> None:
    """A FIFO is left out (the collect never blocks on it); an inbound entry that is itself a
    link, and a student id that is a path, are refused; nothing is written outside submitted/."""
    from tito.collect.exchange import Refusal, collect_from_exchange

    base, root, exchange, secret = class_exchange
    (ann,) = users(1)
    entry = pwd.getpwnam(ann)
    inbound = exchange / "tinytorch" / "inbound"

    def fifo(folder: Path) -> None:
        os.mkfifo(folder / "pipe")
    _as_user(ann, base, root, b"ann's own work", then=fifo)
    stamp = "2099-01-01 00:00:00.000000 UTC"
    link = inbound / f"{ann}+{MODULE}+{stamp}+x"  # newer than ann's real folder, pointing at source/
    link.symlink_to(secret.parent, target_is_directory=True)
    os.lchown(link, entry.pw_uid, entry.pw_gid)
    dotdot = inbound / f"..+{MODULE}+{stamp}"
    dotdot.mkdir()
    os.chown(dotdot, entry.pw_uid, entry.pw_gid)

    report = collect_from_exchange(root, MODULE)
    assert [(s.student, s.status, s.notes) for s in report.students] == [
        (ann, "new", ["pipe: not a regular file, left out"])]
    assert sorted(report.refused, key=lambda r: r.folder) == [
        Refusal("..", dotdot.name, "'..' is not a student id"),
        Refusal(ann, link.name, "a symbolic link, not a folder; not followed"),
    ]
    assert sorted(p.name for p in (root / "submitted" / ann / MODULE).iterdir()) == [
        f"{MODULE}.ipynb", "submission_secret.txt", "timestamp.txt"]
    assert b"# ann's own work" in (root / "submitted" / ann / MODULE / f"{MODULE}.ipynb").read_bytes()
    assert sorted(p.name for p in root.iterdir()) == ["gradebook.db", "nbgrader_config.py", "release", "source",
                                                      "submitted"]
    assert sorted(p.name for p in (root / "submitted").iterdir()) == [ann]
