"""The `tito` command line: thin wiring of the stages, rich output, honest exit codes.

    tito modules                       list the course modules
    tito export [--check]              source -> tinytorch/ (or: exit 1 if it is stale)
    tito notebooks                     source/NN/NN.py -> source/NN/NN.ipynb
    tito release [--module M]          notebooks + nbgrader generate_assignment -> release/
    tito lint [--module M] [--no-execute]
    tito demo                          export, release and lint the whole course; print the module table
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tito import course
from tito.errors import TitoError

# Stages are imported inside the commands: jupytext and nbgrader take seconds to import, and
# `tito modules` or `tito --help` should not pay for them.

# wide when piped (CI logs, make): paths must never be cut to "source/01_fixture_a/01_…"
console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
errors = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; a TitoError becomes one red line on stderr and exit code 1."""
    args = _parser().parse_args(argv)
    try:
        root = args.root.resolve() if args.root else course.find_root()
        return args.handler(root, args)
    except TitoError as error:
        errors.print(f"[red]error:[/red] {error}", markup=True)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tito", description="TinyTorch course tooling.")
    parser.add_argument("--root", type=Path, help="course directory (default: found from the cwd upward)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add(commands, "modules", "list the course modules", cmd_modules)
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
    demo = _add(commands, "demo", "build the whole course, execute every notebook, print the module table", cmd_demo)
    demo.set_defaults(module=None, no_execute=False, check=False, workers=2)
    return parser


def _add(commands, name: str, help_text: str, handler, module: bool = False) -> argparse.ArgumentParser:
    sub = commands.add_parser(name, help=help_text, description=help_text)
    sub.set_defaults(handler=handler)
    if module:
        sub.add_argument("--module", help="one module: 05_autograd, 05 or autograd")
    return sub


def _modules(root: Path, args: argparse.Namespace) -> list[course.Module]:
    modules = course.discover(root)
    if not modules:
        raise TitoError(f"{root / 'source'}: no modules (expected source/NN_name/NN_name.py)")
    return course.select(modules, getattr(args, "module", None))


def cmd_modules(root: Path, args: argparse.Namespace) -> int:
    table = Table("module", "source", "exports to", "release")
    for module in _modules(root, args):
        try:
            target = module.rel(module.export_target)
        except TitoError as error:
            target = f"[red]{error}[/red]"
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
    from tito.release import generate

    table = Table("module", "release")
    for module in _modules(root, args):
        notebooks.build(module)
        table.add_row(module.name, module.rel(generate(root, module)))
    console.print(table)
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
    """The whole instructor build in one go: each stage's table, then the lint's module table.

    The lint executes every source notebook (the solution must pass every graded cell) and every
    release notebook (each graded cell must fail, and only by a stub's NotImplementedError).
    """
    for title, stage in (("export", cmd_export), ("release", cmd_release)):
        console.rule(f"[bold]{title}")
        if stage(root, args):
            return 1
    console.rule("[bold]lint: execute every source and release notebook")
    return cmd_lint(root, args)


def cmd_autograde(root: Path, args: argparse.Namespace) -> int:
    """Grade everything new or changed under submitted/; print one line per submission and a total."""
    from tito.grade.run import autograde

    modules = course.discover(root)
    selected = _modules(root, args) if args.module else None
    summary = autograde(root, modules, selected=selected, students=args.student, workers=args.workers,
                        unsafe=args.unsafe, force=args.force, console=console)
    errors_ = sum(1 for r in summary.graded if r.status == "error")
    flagged = sum(1 for r in summary.graded if any(f.kind != "note" for f in r.flags))
    console.print(f"graded {len(summary.graded)} submission(s) in {summary.wall:.1f} s "
                  f"({summary.skipped} unchanged, skipped; {errors_} not gradable; {flagged} flagged)")
    return 0
