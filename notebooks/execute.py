"""Execute every notebook in place, so the committed outputs match the code.

Run: ``python notebooks/execute.py`` (needs the ``dev`` extra).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

for path in sorted(Path(__file__).parent.glob("*.ipynb")):
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(notebook, path)
    print(f"executed {path.name}")
