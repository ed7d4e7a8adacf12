"""Late submissions: the course's penalty policy and its assessment in nbgrader's gradebook.

nbgrader knows when each submission came in (`SubmittedAssignment.timestamp`, from the
submission's `timestamp.txt`) and when it was due (`Assignment.duedate`, plus the student's
`extension`); its `AssignLatePenalties` preprocessor turns the seconds late into a penalty with the
configured `LateSubmissionPlugin` and stores it on the submitted notebook
(`late_submission_penalty`), which formgrader, `nbgrader export` and tito's exports subtract.
That preprocessor runs only inside stock `nbgrader autograde`, which `tito autograde` replaces, so
`assess` does the same for every submission of the gradebook: `tito feedback`, `tito grades` and
`tito report` call it first, so the due dates, extensions and policy as they are then count.

The policy is `LatePolicy`, nbgrader's `LateSubmissionPlugin` with one more method, configured
in nbgrader_config.py (`c.AssignLatePenalties.plugin_class = "tito.late.LatePolicy"`):

    c.LatePolicy.penalty_method = "per_day"   # nbgrader's "none" and "zero" work too
    c.LatePolicy.percent_per_day = 10         # of the submission's score, per started day late
    c.LatePolicy.grace_minutes = 15           # up to this late: no penalty

"per_day": a submission at most `grace_minutes` late loses nothing; otherwise every started 24
hours after the due date costs `percent_per_day` percent of its score, up to all of it (26 hours
late is 2 started days: 20% of the score). As in nbgrader, a penalty is at least 0 and at most
the score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Enum, Float

DAY = 24 * 3600


class LatePolicy(LateSubmissionPlugin):
    """nbgrader's LateSubmissionPlugin ("none", "zero") plus "per_day" (see the module docstring)."""

    penalty_method = Enum(
        ("none", "zero", "per_day"), default_value="none",
        help="'none': no penalty; 'zero': a late submission scores 0; 'per_day': percent_per_day "
             "percent of the score per started day late, after grace_minutes",
    ).tag(config=True)
    percent_per_day = Float(10.0, min=0.0, max=100.0, help="'per_day': percent of the score lost per started day late").tag(config=True)
    grace_minutes = Float(0.0, min=0.0, help="a submission at most this many minutes late is not penalised").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        if total_seconds_late <= 60 * self.grace_minutes:
            return None
        if self.penalty_method == "per_day":
            days = math.ceil(total_seconds_late / DAY)
            return score * min(1.0, days * self.percent_per_day / 100)
        return super().late_submission_penalty(student_id, score, total_seconds_late)

    def describe(self) -> str:
        """The policy in one sentence, for the feedback page and the report."""
        grace = f" (up to {self.grace_minutes:g} minutes late: no penalty)" if self.grace_minutes else ""
        if self.penalty_method == "per_day":
            return f"a late submission loses {self.percent_per_day:g}% of its score per started day late{grace}"
        if self.penalty_method == "zero":
            return f"a late submission scores 0{grace}"
        return "late submissions are not penalised"


def policy(config) -> LateSubmissionPlugin:
    """The plugin nbgrader_config.py names (`c.AssignLatePenalties.plugin_class`), configured."""
    from nbgrader.preprocessors import AssignLatePenalties

    return AssignLatePenalties(config=config).plugin_class(config=config)


def penalty(plugin: LateSubmissionPlugin, student: str, score: float, seconds_late: float) -> float:
    """The points a submission loses, as nbgrader's AssignLatePenalties decides them: nothing when
    on time, otherwise the plugin's penalty kept within [0, score]."""
    if seconds_late <= 0:
        return 0.0
    value = plugin.late_submission_penalty(student, score, seconds_late)
    return 0.0 if value is None else min(max(float(value), 0.0), score)


@dataclass(frozen=True)
class Assessment:
    changed: int  # submissions whose stored penalty changed
    late: int  # submissions after their due date


def assess(gradebook, config) -> Assessment:
    """Store every submitted notebook's late penalty under the course policy (one transaction)."""
    plugin = policy(config)
    plugin.log.setLevel("ERROR")  # nbgrader's plugins log every call at INFO
    changed = late = 0
    for assignment in gradebook.assignments:
        for submission in gradebook.assignment_submissions(assignment.name):
            seconds = submission.total_seconds_late
            late += seconds > 0
            for notebook in submission.notebooks:
                value = penalty(plugin, submission.student.id, notebook.score, seconds) or None
                if notebook.late_submission_penalty != value:
                    notebook.late_submission_penalty = value
                    changed += 1
    gradebook.db.commit()
    return Assessment(changed, late)


def assess_course(root: Path) -> Assessment | None:
    """`assess` on the course's gradebook; None when the course has no configuration or gradebook."""
    from tito.release import load_config
    from tito.results import open_course_gradebook

    if not (root / "nbgrader_config.py").is_file():
        return None
    config = load_config(root)
    with open_course_gradebook(root, config) as gradebook:
        if gradebook is None:
            return None
        return assess(gradebook, config)


def load_assessed(root: Path):
    """`tito.results.load_results` after `assess_course`: what feedback, grades and the report
    show. A gradebook that cannot be assessed stops nothing; `gradebook_note` says why."""
    from tito.results import load_results

    problem = None
    try:
        assess_course(root)
    except Exception as error:  # the pages must not depend on a healthy gradebook
        problem = f"late penalties not assessed ({type(error).__name__}: {error})"
    loaded = load_results(root)
    loaded.gradebook_note = loaded.gradebook_note or problem
    return loaded


def course_policy(root: Path) -> str:
    """The course's late policy in words ("" without nbgrader_config.py or for a plugin of another kind)."""
    from tito.release import load_config

    if not (root / "nbgrader_config.py").is_file():
        return ""
    plugin = policy(load_config(root))
    return plugin.describe() if isinstance(plugin, LatePolicy) else ""


def format_delay(seconds: float) -> str:
    """How late, as people say it: "3 minutes", "2 hours 5 minutes", "1 day 3 hours"."""
    minutes = max(1, math.ceil(seconds / 60)) if seconds > 0 else 0
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(words) or "0 minutes"
