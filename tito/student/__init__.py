"""The student's tools: `tito check`, `tito build`, `tito submit`.

They work on the student's own notebooks (by default the release notebooks under `release/`, as
edited by the student) and never read `source/` or anything holding hidden tests: what a student
runs is what a student has. Earlier modules come from the published reference package
(`tito.build.partial`), so a student can work on module k before finishing module k-1.
"""
