"""Bound read-only over the `__init__.py` of a package whose data files the sandbox exposes but
whose code it does not (scikit-learn: module 07 reads its digits file, found with
`importlib.util.find_spec("sklearn")`): `find_spec` still locates the package folder, and
importing the package fails exactly as for a package that is not installed."""

raise ModuleNotFoundError(f"No module named {__name__!r}", name=__name__)
