"""Jupyter server configuration of the course directory, loaded by `make lab`
(`jupyter lab --config=jupyter_server_config.py`; Jupyter does not read it from the working directory
by itself).

nbgrader's and jupytext's server extensions are enabled here explicitly, so the course does not
depend on how the environment was installed (pip also enables them in .venv/etc/jupyter).
"""

c = get_config()  # noqa: F821 (injected by traitlets when it loads this file)

c.ServerApp.jpserver_extensions = {
    "jupyterlab": True,
    # jupytext: the jupytext sources (source/NN/NN.py) open and save as notebooks
    # (right-click > Open With > Jupytext Notebook)
    "jupyterlab_jupytext": True,
    # nbgrader: formgrader (instructors), Validate, the assignment and course lists (students)
    "nbgrader.server_extensions.formgrader": True,
    "nbgrader.server_extensions.validate_assignment": True,
    "nbgrader.server_extensions.assignment_list": True,
    "nbgrader.server_extensions.course_list": True,
}
