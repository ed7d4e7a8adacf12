"""`python -m tito.collect`: students and submissions into the course directory.

    python -m tito.collect roster roster.csv
    python -m tito.collect lms downloads.zip --module 05_autograd [--roster roster.csv]
    python -m tito.collect exchange --module 05_autograd
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.table import Table

from tito import course, terminal
from tito.errors import TitoError
from tito.terminal import escape

# Names printed here come from files (roster, LMS download, exchange): through `escape`. These
# consoles also never write a control character they did not make (tito/terminal.py).
console = terminal.console()
errors = terminal.console(stderr=True)
STYLE = {"matched": "green", "renamed": "green", "duplicate": "yellow", "kept-existing": "yellow",
         "unchanged": "dim", "rejected": "red", "new": "green", "updated": "green"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tito.collect", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="course directory (default: found from the cwd upward)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    roster = commands.add_parser("roster", help="import a roster CSV into the gradebook")
    roster.add_argument("csv", type=Path)
    roster.set_defaults(handler=cmd_roster)
    lms = commands.add_parser("lms", help="import an LMS download (folder or .zip) into submitted/")
    lms.add_argument("source", type=Path)
    lms.add_argument("--module", required=True, help="05_autograd, 05 or autograd")
    lms.add_argument("--roster", type=Path, help="roster CSV (default: the students in the gradebook)")
    lms.set_defaults(handler=cmd_lms)
    exchange = commands.add_parser("exchange", help="nbgrader collect from the exchange into submitted/")
    exchange.add_argument("--module", required=True)
    exchange.add_argument("--no-update", action="store_true", help="keep submissions already collected")
    exchange.set_defaults(handler=cmd_exchange)
    args = parser.parse_args(argv)
    try:
        root = args.root.resolve() if args.root else course.find_root()
        return args.handler(root, args)
    except TitoError as error:
        errors.print(f"[red]error:[/red] {escape(error, newlines=True)}")
        return 1


def _config(root: Path):
    from tito.release import load_config

    return load_config(root).CourseDirectory


def cmd_roster(root: Path, args: argparse.Namespace) -> int:
    from tito.collect.roster import import_roster

    settings = _config(root)
    report = import_roster(args.csv, settings.db_url, settings.get("course_id") or None)
    table = Table("added", "updated", "unchanged", "rejected", "skipped", title=f"roster {escape(args.csv)}")
    table.add_row(str(report.added), str(report.updated), str(report.unchanged), str(len(report.rejected)),
                  str(len(report.skipped)))
    console.print(table)
    for line in report.skipped:
        console.print(f"[dim]{escape(line)}[/dim]")
    for line in report.rejected:
        errors.print(f"[red]rejected[/red] {escape(line)}")
    return 1 if report.rejected else 0


def cmd_lms(root: Path, args: argparse.Namespace) -> int:
    from tito.collect.lms import import_lms
    from tito.collect.roster import roster_from_gradebook

    settings = _config(root)
    roster = args.roster if args.roster else roster_from_gradebook(settings.db_url, settings.get("course_id") or None)
    report = import_lms(args.source, root, args.module, roster)
    table = Table("file", "status", "student", "reason", title=f"{escape(report.module)} from {escape(args.source)}")
    for result in report.files:
        style = STYLE.get(result.status, "")
        table.add_row(escape(result.file), f"[{style}]{result.status}[/{style}]", escape(result.student or ""),
                      escape(result.reason))
    console.print(table)
    counts = report.counts()
    console.print(", ".join(f"{n} {status}" for status, n in counts.items() if n) or "the download is empty")
    return 1 if counts["rejected"] else 0


def cmd_exchange(root: Path, args: argparse.Namespace) -> int:
    from tito.collect.exchange import collect_from_exchange

    report = collect_from_exchange(root, args.module, update=not args.no_update)
    table = Table("student", "status", "timestamp", "on roster", "notes",
                  title=escape(f"{report.module} from {report.exchange_root}"))
    for item in report.students:
        style = STYLE.get(item.status, "")
        table.add_row(escape(item.student), f"[{style}]{item.status}[/{style}]", escape(item.timestamp or ""),
                      "yes" if item.on_roster else "[yellow]no[/yellow]",
                      f"[yellow]{escape('; '.join(item.notes))}[/yellow]" if item.notes else "")
    console.print(table)
    if report.refused:
        refused = Table("student", "folder", "why", title="[red]refused, not collected[/red]")
        for refusal in report.refused:
            refused.add_row(escape(refusal.student or "?"), escape(refusal.folder), escape(refusal.reason))
        console.print(refused)
        errors.print(f"[red]refused {len(report.refused)} inbound folder(s)[/red]: not collected (see above)")
    if report.log.strip():
        console.print(f"[dim]nbgrader:[/dim] {escape(report.log.strip(), newlines=True)}")
    return 1 if report.refused else 0


if __name__ == "__main__":
    sys.exit(main())
