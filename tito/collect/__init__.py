"""Getting submissions and students into the course directory.

    import_roster(csv, db_url)                     roster CSV (ours or Canvas') -> nbgrader gradebook
    import_lms(download, root, module, roster)     LMS folder/zip -> submitted/<student>/<module>/
    collect_from_exchange(root, module)            nbgrader's exchange -> submitted/ (nbgrader collect)

The CLI: `python -m tito.collect --help`.
"""

from tito.collect.exchange import ExchangeReport, collect_from_exchange
from tito.collect.lms import FileResult, ImportReport, import_lms
from tito.collect.roster import Roster, RosterEntry, RosterImport, import_roster, load_roster, read_roster_csv

__all__ = ["ExchangeReport", "FileResult", "ImportReport", "Roster", "RosterEntry", "RosterImport",
           "collect_from_exchange", "import_lms", "import_roster", "load_roster", "read_roster_csv"]
