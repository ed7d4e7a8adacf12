"""Synthetic classes: deterministic submissions with known expected outcomes, for testing grading.

    generate_class(root, students=40, seed=0) -> ClassManifest   (writes submitted/, roster.csv,
                                                                  synthetic_class.json)
    ClassManifest.load(root).expected("s001", "05_autograd")    -> Expected

The bugs and what they fail: each module's `source/NN_name/bugs.py`, read by `tito.synth.bugs`. The CLI:
`python -m tito.synth --help`.
"""

from tito.synth.generate import ClassManifest, Expected, Student, generate_class

__all__ = ["ClassManifest", "Expected", "Student", "generate_class"]
