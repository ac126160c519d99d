"""Where the course lives on GitHub: the ONE place to change when you fork it.

Both the lecture notebooks (``notebooks/build.py``) and the exercise notebook
(``course/build.py``) take the address from here.

``build.py`` writes this address into every notebook's first code cell (the Colab install
cell, which cannot import anything from the repository because on Colab it runs before the
package is installed) and into every "Open in Colab" badge; ``tests/test_notebooks.py``
checks that all notebooks and ``notebooks/README.md`` agree with it.
"""
REPO_URL = "https://github.com/autograd-lite/autograd-lite-course"   # a fork changes this line
BRANCH = "main"
NOTEBOOK_DIR = "notebooks"

BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def github_path():
    """``owner/name`` from the repository address."""
    prefix = "https://github.com/"
    if not REPO_URL.startswith(prefix):
        raise ValueError(f"REPO_URL must start with {prefix!r}, got {REPO_URL!r}")
    return REPO_URL[len(prefix):].rstrip("/")


def colab_url(notebook_name):
    """The address that opens ``notebooks/<notebook_name>`` from GitHub in Google Colab."""
    return (f"https://colab.research.google.com/github/{github_path()}/blob/{BRANCH}/"
            f"{NOTEBOOK_DIR}/{notebook_name}")


def badge_markdown(notebook_name):
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(notebook_name)})"


def install_cell_source():
    """The first code cell of every notebook: installs the course package on Colab only."""
    # No extras: Colab already ships numpy, matplotlib, ipywidgets and sympy, and installing
    # JupyterLab there would only fight with Colab's own Jupyter.
    return f'''# On Google Colab this installs the course package; anywhere else it does nothing.
import subprocess
import sys

REPO_URL = "{REPO_URL}"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"autograd-lite-course @ git+{{REPO_URL}}"], check=True)'''
