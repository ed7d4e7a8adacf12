"""The one exception type the CLI turns into a clean message and a non-zero exit."""


class TitoError(Exception):
    """A problem the instructor must fix; the message names the file and the problem.

    Every stage raises this (never a bare traceback) so `tito` can print one line per
    problem and exit non-zero, which is what CI and the Makefile rely on.
    """
