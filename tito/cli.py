"""The `tito` command line: thin wiring of the stages, rich output, honest exit codes.

    tito modules                       list the course modules
    tito new-module NN_name "Title"    a working skeleton of a new module in source/NN_name/
    tito export [--check]              source -> tinytorch/ (or: exit 1 if it is stale)
    tito notebooks                     source/NN/NN.py -> source/NN/NN.ipynb
    tito release [--module M]          notebooks + nbgrader generate_assignment -> release/,
                                       and the published modules' reference -> release/_reference/
    tito lint [--module M] [--no-execute]
    tito autograde [--module M] [--student S] [--workers N] [--force] [--unsafe]
                   [--scheduler tcp://HOST:PORT | --cluster local[:N]]
    tito feedback [--module M] [--student S]   feedback/<student>/<module>/<module>.html
    tito grades                        grades.csv (nbgrader export) and grades_canvas.csv
    tito report                        report/index.html with figures
    tito synth ...                     a synthetic class (see `tito synth --help`)
    tito collect ...                   roster, LMS downloads, nbgrader exchange (see `tito collect --help`)
    tito demo [--students N] [--rebuild]   the full course cycle on a synthetic class
    tito student-kit DEST [--force]    the folder students get: release, checkpoints, guide, their tools

  for students:
    tito check NN_name [--notebook PATH]            run your notebook and the module's checkpoint
                                                    (or, in the notebook: tito.student.check_module)
    tito build [--notebooks DIR] [--out DIR]        your own tinytorch from your notebooks
    tito checkpoints [--build DIR]                  the checkpoints of the modules your build has reached
    tito submit NN_name (--zip | exchange) [--student ID] [--yes]   hand a notebook in
    tito config student-id [ID]                     show or set your student id (submit's default)

  In a student kit (no source/) only the student commands run; the others say so.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.table import Table
from rich.text import Text

from tito import course, terminal
from tito.errors import TitoError
from tito.terminal import escape, visible

# Stages are imported inside the commands: jupytext and nbgrader take seconds to import, and
# `tito modules` or `tito --help` should not pay for them.

# wide when piped (CI logs, make): paths must never be cut to "source/01_fixture_a/01_…". Names from
# students and files go through `escape` (tito/terminal.py); these consoles never write a control
# character they did not make (a backstop for any text that reaches them).
console = terminal.console()
errors = terminal.console(stderr=True)

STUDENT_COMMANDS = ("check", "build", "checkpoints", "submit", "config")  # the only ones a student kit can run
INTERRUPTED = 130  # a shell's exit code for a command stopped by Ctrl+C (128 + SIGINT)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; a TitoError becomes one red line on stderr and exit code 1."""
    argv = sys.argv[1:] if argv is None else argv
    delegated = _delegated(argv)
    if delegated is not None:
        return delegated
    parser = _parser()
    if _in_student_kit(argv):
        _list_only_student_commands(parser)
    args = parser.parse_args(argv)
    try:
        root = args.root.resolve() if args.root else course.find_root()
        if args.command not in STUDENT_COMMANDS:
            course.require_source(root, args.command)
        return args.handler(root, args)
    except TitoError as error:
        errors.print(f"[red]error:[/red] {escape(error, newlines=True)}", markup=True)
        return 1
    except KeyboardInterrupt:
        errors.print(f"interrupted (Ctrl+C): `tito {args.command}` stopped; nothing after that ran", markup=False)
        return INTERRUPTED


def _in_student_kit(argv: list[str]) -> bool:
    """Whether the course folder (`--root`, else found from the cwd) is a student kit."""
    given = next((argv[i + 1] for i, word in enumerate(argv[:-1]) if word == "--root"), None)
    given = given or next((word.split("=", 1)[1] for word in argv if word.startswith("--root=")), None)
    try:
        root = Path(given).resolve() if given else course.find_root()
    except TitoError:
        return False
    return course.is_student_kit(root)


def _list_only_student_commands(parser: argparse.ArgumentParser) -> None:
    """In a student kit `tito --help` lists the student's commands only (the others still parse,
    so that running one says it is the instructor's)."""
    parser.description = "TinyTorch: the student's tools in this course folder (a student kit)."
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action._choices_actions[:] = [a for a in action._choices_actions if a.dest in STUDENT_COMMANDS]


def _delegated(argv: list[str]) -> int | None:
    """`tito synth ...` and `tito collect ...` hand their arguments to the stage's own CLI."""
    import importlib

    targets = {"synth": "tito.synth.__main__", "collect": "tito.collect.__main__"}
    position = _command_position(argv)
    if position is None or argv[position] not in targets:
        return None
    command = argv[position]
    try:
        stage = importlib.import_module(targets[command])
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("tito."):
            raise
        errors.print(f"[red]error:[/red] this is a student kit: no source/; `tito {command}` is an "
                     "instructor command (run it in the course repository)", markup=True)
        return 1
    return stage.main(argv[:position] + argv[position + 1:])


def _command_position(argv: list[str]) -> int | None:
    """Where the subcommand is: the first word that is neither an option nor `--root`'s value."""
    skip = False
    for position, word in enumerate(argv):
        if skip:
            skip = False
        elif word == "--root":
            skip = True
        elif not word.startswith("-"):
            return position
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tito", description="TinyTorch course tooling.")
    parser.add_argument("--root", type=Path, help="course directory (default: found from the cwd upward)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add(commands, "modules", "list the course modules", cmd_modules)
    new = _add(commands, "new-module", "write a working skeleton of a new module in source/NN_name/", cmd_new_module)
    new.add_argument("name", metavar="NN_name", help="the module's folder and nbgrader assignment, e.g. 08_spatial")
    new.add_argument("title", help='its title, e.g. "Spatial"')
    new.add_argument("--question", help="the checkpoint's capability question")
    check = _add(commands, "export", "export #| export cells into tinytorch/", cmd_export)
    check.add_argument("--check", action="store_true", help="write nothing; exit 1 if a target is stale or missing")
    _add(commands, "notebooks", "derive source/NN/NN.ipynb from the jupytext sources", cmd_notebooks, module=True)
    _add(commands, "release", "build notebooks and run nbgrader generate_assignment", cmd_release, module=True)
    lint = _add(commands, "lint", "check the release (parse, placement, metadata, leaks, execution)", cmd_lint, module=True)
    lint.add_argument("--no-execute", action="store_true", help="static rules only; run no notebook")
    lint.add_argument("--workers", type=int, default=2, help="kernels run in parallel (default 2)")
    grade = _add(commands, "autograde", "grade new or changed submissions in the sandbox, in parallel", cmd_autograde, module=True)
    grade.add_argument("--student", action="append", help="only this student (repeatable)")
    grade.add_argument("--workers", type=int, default=None, help="parallel submissions (default: one per core)")
    grade.add_argument("--force", action="store_true", help="regrade even unchanged submissions")
    grade.add_argument("--unsafe", action="store_true",
                       help="grade without the isolation layers this machine lacks (trusted code only)")
    engine = grade.add_mutually_exclusive_group()
    engine.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="grade on the workers of this Dask scheduler (docs/scaling.md)")
    engine.add_argument("--cluster", metavar="local[:N]",
                        help="grade on a Dask LocalCluster: one worker of N threads, in this process (default: --workers, or one per core)")
    feedback = _add(commands, "feedback", "write an HTML feedback page per student and module", cmd_feedback, module=True)
    feedback.add_argument("--student", help="only this student")
    _add(commands, "grades", "export grades.csv (nbgrader export) and grades_canvas.csv", cmd_grades)
    _add(commands, "report", "write report/index.html with figures", cmd_report)
    for name, target in (("synth", "tito.synth.__main__"), ("collect", "tito.collect.__main__")):
        sub = commands.add_parser(name, help=f"see `tito {name} --help`", add_help=False)
        sub.set_defaults(handler=None, delegate=target)
    demo = _add(commands, "demo", "the full course cycle: build, lint, a synthetic class, grade, feedback, report",
                cmd_demo)
    demo.add_argument("--students", type=int, default=40, help="size of the synthetic class (default 40)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--workers", type=int, default=None)
    demo.add_argument("--rebuild", action="store_true",
                      help="start from a fresh class: remove submitted/, autograded/, feedback/ and the gradebook first")
    demo.set_defaults(module=None, no_execute=False, check=False)
    kit = _add(commands, "student-kit", "write the folder students get (no source/, no full reference)",
               cmd_student_kit)
    kit.add_argument("dest", type=Path, metavar="DEST", help="the folder to write (new or empty)")
    kit.add_argument("--force", action="store_true",
                     help="DEST is not empty: replace the kit's files in it (anything else stays)")
    check_ = _add(commands, "check", "student: run your notebook's tests and the module's checkpoint on your work",
                  cmd_check)
    check_.add_argument("module_name", metavar="MODULE", help="the module: 01_tensor, 01 or tensor")
    check_.add_argument("--notebook", type=Path, help="your notebook (default: release/NN_name/NN_name.ipynb)")
    check_.add_argument("--notebooks", type=Path,
                        help="folder of your other NN_name/NN_name.ipynb, for earlier modules that are not published "
                             "(default: release/)")
    check_.add_argument("--seeds", type=int, default=1, help="run the checkpoint under this many seeds (default 1)")
    build = _add(commands, "build",
                 "student: export your notebooks into your own tinytorch (published reference where unfinished)",
                 cmd_build)
    build.add_argument("--notebooks", type=Path, help="folder of NN_name/NN_name.ipynb (default: release/)")
    build.add_argument("--out", type=Path, help="package root to write (default: .tito/student-build/)")
    points = _add(commands, "checkpoints", "student: the checkpoints of the modules your build has reached",
                  cmd_checkpoints)
    points.add_argument("--build", type=Path, help="the build to test (default: .tito/student-build/)")
    submit = _add(commands, "submit", "student: submit a notebook (nbgrader exchange) or zip it for an LMS", cmd_submit)
    submit.add_argument("module_name", metavar="MODULE", help="the module: 01_tensor, 01 or tensor")
    submit.add_argument("--zip", action="store_true", help="write submissions/<student>_<module>.zip for an LMS upload")
    submit.add_argument("--student", help="your student id (default: the one `tito config student-id` set; "
                                          "else asked for, at a terminal)")
    submit.add_argument("--notebook", type=Path, help="the notebook (default: release/NN_name/NN_name.ipynb)")
    submit.add_argument("--yes", action="store_true",
                        help="submit even a notebook whose solution stubs are all still in place, without asking")
    config = _add(commands, "config", "student: show or set your student id for this course folder", cmd_config)
    config.add_argument("key", choices=["student-id"], help="what to show or set")
    config.add_argument("value", nargs="?", metavar="ID", help="the new value (omit it to show the current one)")
    return parser


def _add(commands, name: str, help_text: str, handler, module: bool = False) -> argparse.ArgumentParser:
    sub = commands.add_parser(name, help=help_text, description=help_text)
    sub.set_defaults(handler=handler)
    if module:
        sub.add_argument("--module", help="one module: 05_autograd, 05 or autograd")
    return sub


def _modules(root: Path, args: argparse.Namespace) -> list[course.Module]:
    return course.select(_all_modules(root), getattr(args, "module", None))


def _all_modules(root: Path) -> list[course.Module]:
    modules = course.discover(root)
    if not modules:
        raise TitoError(f"{root}: no modules (expected source/NN_name/NN_name.py, or "
                        "release/NN_name/NN_name.ipynb in a student kit)")
    return modules


def cmd_new_module(root: Path, args: argparse.Namespace) -> int:
    """A new module's folder that releases, lints and grades as it stands; then what to do next."""
    from tito.scaffold import new_module

    course.require_source(root, "new-module")
    files = new_module(root, args.name, args.title, args.question)
    console.print(f"wrote {', '.join(course.relpath(root, f) for f in files)}", markup=False, soft_wrap=True)
    for line in (f"next: tito export && tito release --module {args.name} && tito lint --module {args.name}",
                 "then replace `double` with the module's content (source/AUTHORING.md), re-derive its bugs with "
                 f"`python -m tito.synth --derive --write --module {args.name}`, and add its row to "
                 "docs/curriculum.md (tests/test_curriculum.py prints it)"):
        console.print(line, markup=False, soft_wrap=True)
    return 0


def cmd_modules(root: Path, args: argparse.Namespace) -> int:
    table = Table("module", "source", "exports to", "release")
    for module in _modules(root, args):
        try:
            target = ", ".join(module.rel(t) for t in module.export_targets)
        except TitoError as error:
            target = f"[red]{escape(error)}[/red]"
        released = "yes" if module.release_ipynb.is_file() else "[yellow]no[/yellow]"
        table.add_row(module.name, module.rel(module.source_py), target, released)
    console.print(table)
    return 0


def cmd_export(root: Path, args: argparse.Namespace) -> int:
    from tito.build import export

    modules = _modules(root, args)
    if args.check:
        stale = export.check(modules)
        for result in stale:
            errors.print(f"{export.describe(result)}; run `tito export`")
        if not stale:
            console.print(f"tinytorch/ is fresh ({len(modules)} modules)")
        return 1 if stale else 0
    table = Table("target", "was", "source")
    for result in export.export(modules):
        table.add_row(result.module.rel(result.target), result.state, result.module.rel(result.module.source_py))
    console.print(table)
    return 0


def cmd_notebooks(root: Path, args: argparse.Namespace) -> int:
    from tito.build import notebooks

    table = Table("notebook", "status")
    for module in _modules(root, args):
        written = notebooks.build(module)
        table.add_row(module.rel(module.source_ipynb), "written" if written else "unchanged")
    console.print(table)
    return 0


def cmd_release(root: Path, args: argparse.Namespace) -> int:
    from tito.build import notebooks
    from tito.release import check_spec, generate, write_published

    table = Table("module", "release")
    for module in _modules(root, args):
        check_spec(module)
        notebooks.build(module)
        table.add_row(module.name, module.rel(generate(root, module)))
    console.print(table)
    published = write_published(root, course.discover(root))
    names = ", ".join(m.name for m in published) or "none (c.PublishedReference.modules in nbgrader_config.py)"
    console.print(f"published reference {course.relpath(root, course.published_root(root))}: {names}")
    return 0


def cmd_lint(root: Path, args: argparse.Namespace) -> int:
    from tito.lint import lint
    from tito.release import load_config

    timeout = int(load_config(root).Execute.get("timeout", 60))
    modules = course.discover(root)
    report = lint(modules, _modules(root, args), execute=not args.no_execute, workers=args.workers, timeout=timeout)
    for finding in report.findings:
        console.print(str(finding), markup=False, soft_wrap=True)  # one grep-able line each
    if report.findings:
        errors.print(f"[red]{len(report.findings)} finding(s)[/red]")
        return 1
    _print_summary(report)
    return 0


def _print_summary(report) -> None:
    table = Table("module", "graded cells", "points", "solution passes", "release fails by stub")
    for s in report.summaries:
        passed = "-" if s.source_passed is None else f"{s.source_passed}/{s.graded_cells}"
        failed = "-" if s.release_failed is None else f"{s.release_failed}/{s.graded_cells}"
        table.add_row(s.module, str(s.graded_cells), f"{s.points:g}", passed, failed)
    console.print(table)


def cmd_demo(root: Path, args: argparse.Namespace) -> int:
    """The main job: the whole course cycle on a synthetic class, on embedded defaults.

    Build (export, release), lint (every source and release notebook executed), a synthetic class
    written into submitted/, its roster imported, every submission graded in the sandbox on a local
    worker pool into the SQLite gradebook, feedback pages, grades.csv and the report; then a summary
    table that also compares each score with the one the synthetic class expects. `--rebuild`
    first removes the previous class and everything graded from it.
    """
    if args.rebuild:
        from tito.demo import clear_class

        console.print(f"removed {', '.join(clear_class(root)) or 'nothing (no previous class)'}")
    for title, stage in (("export", cmd_export), ("release", cmd_release),
                         ("lint: execute every source and release notebook", cmd_lint)):
        console.rule(f"[bold]{title}")
        if stage(root, args):
            return 1
    from tito.demo import run_cycle

    return run_cycle(root, students=args.students, seed=args.seed, workers=args.workers, console=console)


def cmd_student_kit(root: Path, args: argparse.Namespace) -> int:
    """The folder students get; everything in it was searched for solution text first."""
    from tito.kit import write_kit

    dest = write_kit(root, args.dest.expanduser(), force=args.force)
    console.print(f"wrote the student kit {dest}: release/, checkpoints/, the guide and the student's tools; "
                  "no source/, no full tinytorch/, no leaked solution")
    console.print("students run `make setup` in it, then `make lab`")
    return 0


def cmd_feedback(root: Path, args: argparse.Namespace) -> int:
    from tito.feedback_pages import run

    module = course.select(course.discover(root), args.module)[0].name if args.module else None
    run(root, console, module=module, student=args.student)
    return 0


def cmd_grades(root: Path, args: argparse.Namespace) -> int:
    from tito.report import run_grades

    run_grades(root, console)
    return 0


def cmd_report(root: Path, args: argparse.Namespace) -> int:
    from tito.report import run_report

    run_report(root, console)
    return 0


def cmd_autograde(root: Path, args: argparse.Namespace) -> int:
    """Grade everything new or changed under submitted/; print one line per submission and a total."""
    from tito.grade.run import autograde, run_notes

    modules = course.discover(root)
    selected = _modules(root, args) if args.module else None
    local_cluster = None
    if args.cluster:
        from tito.grade.distributed import parse_cluster

        local_cluster = parse_cluster(args.cluster, args.workers or os.cpu_count() or 1)
    summary = autograde(root, modules, selected=selected, students=args.student, workers=args.workers,
                        unsafe=args.unsafe, force=args.force, console=console,
                        scheduler=args.scheduler, local_cluster=local_cluster)
    errors_ = sum(1 for r in summary.graded if r.status == "error")
    flagged = sum(1 for r in summary.graded if any(f.kind != "note" for f in r.flags))
    console.print(f"graded {len(summary.graded)} submission(s) in {summary.wall:.1f} s "
                  f"({summary.skipped} unchanged, skipped; {errors_} not gradable; {flagged} flagged)")
    for line in run_notes(summary):
        console.print(line, markup=False, soft_wrap=True)
    return 1 if summary.internal_errors else 0



def _student_module(root: Path, name: str) -> course.Module:
    """The module called `name`; if there is none, a module folder under release/ whose notebook
    was renamed or copied is named, with what to do."""
    from tito.student.stack import select_module

    return select_module(course.discover(root), name, root / "release")


def _student_path(path: Path | None) -> Path | None:
    return path.expanduser().resolve() if path else None


def cmd_check(root: Path, args: argparse.Namespace) -> int:
    """The student's check: their notebook in a fresh kernel, then the checkpoint on their module."""
    from tito.student import summary
    from tito.student.check import check, limits
    from tito.student.command import tito_command

    module = _student_module(root, args.module_name)
    console.print(f"checking {module.name} ...")
    report = check(root, module, _student_path(args.notebook), notebooks=_student_path(args.notebooks),
                   limits=limits(root), seeds=args.seeds)
    console.print(f"notebook: {escape(report.notebook)}")
    for line in summary.preamble(report):
        console.print(visible(line, newlines=True), markup=False, soft_wrap=True)
    table = Table(*summary.TABLE_HEADER)
    for grade_id, points, result, message, hint in summary.cell_rows(report):
        colour = "green" if result == "passed" else "red"
        table.add_row(grade_id, points, f"[{colour}]{result}[/{colour}]", Text(visible(message, newlines=True)),
                      Text(visible(hint, newlines=True)))
    console.print(table)
    for line in summary.conclusion(report, f"run `{tito_command()} check {module.name}` again"):
        console.print(visible(line, newlines=True), markup=False, soft_wrap=True)
    return 0 if report.passed else 1


def cmd_build(root: Path, args: argparse.Namespace) -> int:
    from tito.student.build import DEFAULT_OUT, build
    from tito.student.command import tito_command
    from tito.student.stack import MISSING, STUDENT, how_to_get, unreadable_folders

    notebooks = _student_path(args.notebooks) or root / "release"
    out = _student_path(args.out) or root / DEFAULT_OUT
    choices = build(root, _modules(root, args), notebooks, out)
    owners = {STUDENT: "[green]you[/green]", MISSING: "[red]missing[/red]"}
    table = Table("module", "code from", "why")
    for choice in choices:
        table.add_row(choice.module.name, owners.get(choice.owner, "published reference"), Text(visible(choice.reason)))
    console.print(table)
    console.print(f"wrote {escape(out / 'tinytorch')}")
    for choice in choices:
        if choice.owner == MISSING:
            console.print(visible(f"{choice.module.name} is missing (the modules after it cannot import it): "
                                  f"{how_to_get(root, choice)}"), markup=False, soft_wrap=True)
    default = "" if out == root / DEFAULT_OUT else f" --build {escape(out)}"
    console.print(f"run the checkpoints on your stack: {tito_command()} checkpoints{default} "
                  f"(or TINYTORCH_ROOT={escape(out)} make checkpoints)")
    unreadable = unreadable_folders(notebooks)
    for problem in unreadable:
        errors.print(visible(f"error: not built: {problem}"), markup=False, soft_wrap=True)
    return 1 if unreadable else 0


def cmd_submit(root: Path, args: argparse.Namespace) -> int:
    from tito.student import submit
    from tito.student.identity import student_id, terminal_prompt

    module = _student_module(root, args.module_name)
    notebook = submit.readable_notebook(module, _student_path(args.notebook))
    ask = terminal_prompt()
    student = student_id(root, args.student, ask)
    submit.confirm_untouched(module, notebook, args.yes, ask)
    if args.zip:
        path = submit.submit_zip(root, module, student, notebook)
        console.print(f"wrote {escape(course.relpath(root, path))} (student {escape(student)}): upload it to your LMS")
        return 0
    output = submit.submit_exchange(root, module, student, notebook)
    console.print(visible(output, newlines=True), markup=False)
    console.print(f"submitted {module.name} through the nbgrader exchange as student {escape(student)}")
    return 0


def cmd_checkpoints(root: Path, args: argparse.Namespace) -> int:
    from tito.student.build import DEFAULT_OUT, run_checkpoints

    return run_checkpoints(root, _student_path(args.build) or root / DEFAULT_OUT)


def cmd_config(root: Path, args: argparse.Namespace) -> int:
    """`tito config student-id [ID]`: show or set this course folder's student id."""
    from tito.student.identity import STUDENT_ID_FILE, configure, configured

    if args.value is None:
        kept = configured(root)
        console.print(escape(kept) if kept else f"no student id set ({STUDENT_ID_FILE} does not exist)")
        return 0 if kept else 1
    path = configure(root, args.value)
    console.print(f"student id {escape(args.value)} kept in {escape(course.relpath(root, path))}: "
                  "`submit` uses it from now on")
    return 0
