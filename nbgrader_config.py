"""nbgrader configuration of the TinyTorch course directory.

Stock nbgrader commands (`nbgrader generate_assignment 01_tensor`, `autograde`, formgrader)
read this file from the course root; `tito` loads the very same file, so both agree.
"""

import os

c = get_config()  # noqa: F821 (injected by traitlets when it loads this file)

# Course identity: names the course in the exchange and the gradebook.
c.CourseDirectory.course_id = "tinytorch"

# The course root is this file's directory, so nbgrader finds source/, release/ and the
# gradebook even when started from elsewhere (tito, JupyterLab's formgrader).
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))

# One SQLite gradebook beside the course (gitignored: it holds student data).
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# nbgrader copies every file of source/NN/ into release/NN/. The jupytext sources
# (source/NN/NN.py) hold the full solution, so `*.py` must never be copied: a leak otherwise.
# The rest are nbgrader's own defaults, kept.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py"]

# The stub that replaces a solution region. It takes the indentation of the BEGIN SOLUTION
# line, which the lint requires to be inside a function body, so the stub always parses.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# A graded cell that hangs must not stall the batch: 60 s per cell (nbgrader's default is 30 s;
# the training module needs more). `tito autograde` and `tito lint` use the same limit.
c.Execute.timeout = 60
c.ExecutePreprocessor.timeout = 60

# The autograder's sandbox (tito reads these; nbgrader ignores them; tito/grade/config.py says
# what each means). The defaults are written out so that a course can see and change them here.
c.Grading.notebook_timeout = 900  # seconds for a whole notebook
c.Grading.cases_timeout = 60  # seconds for a submission's differential cases, import included
c.Grading.memory_mb = 2048  # address space of the sandbox
c.Grading.cpu_seconds = 600
c.Grading.processes = 64
c.Grading.file_size_mb = 64
c.Grading.open_files = 256
c.Grading.output_bytes = 1048576  # kept of each stream a cell prints
# Each submission's case inputs are drawn from a seed derived from this secret (created on first
# use, gitignored, never in a sandbox or the student kit): nobody can know them in advance.
c.Grading.secret_file = ".tito/course-secret"
# What stands in for the modules before the one under grade: "published" (their published
# reference; grading refuses a module whose earlier modules are not all published, because an
# unpublished solution never enters a sandbox) or "student" (the student's own earlier work where
# no reference is published).
c.Grading.earlier_modules = "published"

# The published reference (tito reads it; nbgrader ignores it): the modules whose reference code
# `tito release` ships in release/_reference/tinytorch/, so that a student who has not finished
# one of them can still work on the modules after it (`tito check` and `tito build` use it).
# Publishing hands that solution to every student and cannot be undone: add a module once its
# deadline has passed, then `make release`. Grading module k needs modules 1..k-1 published (see
# c.Grading.earlier_modules above). The kit ships with nothing published, so a new course's first
# student kit holds no solution: e.g. ["01_tensor"] after week 1's deadline.
c.PublishedReference.modules = []

# Late submissions (tito/late.py; docs/instructors.md, "Late submissions"). nbgrader knows each
# submission's time (timestamp.txt) and each module's due date (formgrader, or
# `nbgrader db assignment add 01_tensor --duedate="2026-10-09 23:59 UTC"`); the plugin turns the
# time late into a penalty, which `tito feedback`, `tito grades` and `tito report` store in the
# gradebook and show. "per_day": up to grace_minutes late costs nothing, otherwise every started
# day late costs percent_per_day percent of the score (26 hours late: 20%). nbgrader's own
# methods "none" and "zero" (a late submission scores 0) work too.
c.AssignLatePenalties.plugin_class = "tito.late.LatePolicy"
c.LatePolicy.penalty_method = "per_day"
c.LatePolicy.percent_per_day = 10
c.LatePolicy.grace_minutes = 15

# `nbgrader export` (and `tito grades`) write nbgrader's grades.csv through this plugin: the same
# columns, but quoted as CSV should be and with every cell a spreadsheet would read as a formula
# (a roster name `=HYPERLINK(...)`, `@SUM(...)`, ...) prefixed with `'` (tito/report/nbgrader_export.py).
c.ExportApp.plugin_class = "tito.report.nbgrader_export.SafeCsvExportPlugin"

# Collecting from nbgrader's exchange (`tito collect exchange`, and stock `nbgrader collect` and
# formgrader's Collect button through this line): a submission is collected only when its folder
# and every file in it belong to the unix user of the student it names (default: the student id;
# c.SafeExchangeCollect.unix_user = "jhub-{student}" or .unix_users = {...} say otherwise), links
# are never followed, and each refusal is reported (tito/collect/exchange.py).
c.ExchangeFactory.collect = "tito.collect.exchange.SafeExchangeCollect"
