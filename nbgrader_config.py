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

# One SQLite gradebook beside the course (gitignored: it holds student data and hidden tests).
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# nbgrader copies every file of source/NN/ into release/NN/. The jupytext sources
# (source/NN/NN.py) hold the full solution, so `*.py` must never be copied: a leak otherwise.
# The rest are nbgrader's own defaults, kept.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py"]

# The stub that replaces a solution region. It takes the indentation of the BEGIN SOLUTION
# line, which the lint requires to be inside a function body, so the stub always parses.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# A graded cell that hangs must not stall the batch: 60 s per cell (nbgrader's default is 30 s;
# the training module needs more). `tito lint` executes notebooks with the same limit.
c.Execute.timeout = 60
c.ExecutePreprocessor.timeout = 60

# The published reference (tito reads it; nbgrader ignores it): the modules whose reference code
# `tito release` ships in release/_reference/tinytorch/, so that a student who has not finished
# one of them can still work on the modules after it (`tito check` and `tito build` use it).
# Publishing hands that solution to every student and cannot be undone: add a module once its
# deadline has passed, then `make release`. Default (no line): nothing is published.
# The kit ships as the course stands in week 4: modules 01 to 03 are published.
c.PublishedReference.modules = ["01_tensor", "02_activations", "03_layers"]
