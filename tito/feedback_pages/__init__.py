"""Feedback stage: one self-contained HTML page per graded submission.

    write_feedback(root, result, module) -> feedback/<student>/<module>/<module>.html
    write_all(root)                      -> a page for every autograded/*/*/result.json
    run(root, console)                   -> the `tito feedback` command: pages + a rich summary
"""

from tito.feedback_pages.command import run
from tito.feedback_pages.page import feedback_path, render, write_all, write_feedback

__all__ = ["feedback_path", "render", "run", "write_all", "write_feedback"]
