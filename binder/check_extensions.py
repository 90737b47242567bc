"""Fail (exit 1) unless the JupyterLab and server extensions the course needs are enabled and load.

Used by binder/postBuild so that no Binder image is built without working sliders or nbgrader,
and by tests/test_binder.py on the local environment. Run it with the environment's Python:
`python binder/check_extensions.py`. It reads the same configuration as `jupyter labextension
list` and `jupyter server extension list`, in one process.
"""
import importlib
import sys

from jupyter_core.paths import jupyter_config_path, jupyter_path
from jupyter_server.extension.config import ExtensionConfigManager
from jupyterlab_server.config import get_federated_extensions, get_page_config

LAB_EXTENSIONS = ["@jupyter-widgets/jupyterlab-manager", "@jupyter/nbgrader"]
SERVER_EXTENSIONS = [
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.validate_assignment",
]


def problems():
    """One line per required extension that is missing, disabled or does not import."""
    found = []
    paths = jupyter_path("labextensions")
    installed = get_federated_extensions(paths)
    disabled = get_page_config(paths).get("disabledExtensions") or {}
    if isinstance(disabled, list):
        disabled = dict.fromkeys(disabled, True)
    for name in LAB_EXTENSIONS:
        if name not in installed:
            found.append(f"JupyterLab extension {name} is not installed")
        elif disabled.get(name):
            found.append(f"JupyterLab extension {name} is disabled")

    enabled = ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()
    for name in SERVER_EXTENSIONS:
        if not enabled.get(name):
            found.append(f"server extension {name} is not enabled")
            continue
        try:
            module = importlib.import_module(name)
        except Exception as error:  # noqa: BLE001  (any import failure means it will not load)
            found.append(f"server extension {name} does not import: {error!r}")
            continue
        if not (hasattr(module, "_load_jupyter_server_extension")
                or hasattr(module, "_jupyter_server_extension_points")):
            found.append(f"server extension {name} has no entry point for jupyter_server")
    return found


if __name__ == "__main__":
    found = problems()
    if found:
        sys.exit("\n".join(found))
    print("extensions enabled:", ", ".join(LAB_EXTENSIONS + SERVER_EXTENSIONS))
