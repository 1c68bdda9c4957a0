"""``python -m integ_lint``.

Python puts the working folder first on ``sys.path`` for ``-m``; run from the root
of the project being scanned, a ``tempfile.py``, ``inspect.py`` or ``click.py`` there
would be imported (and run) instead of the real module. So the working folder is
dropped from ``sys.path`` before anything else is imported. (integ-lint's own
modules still import: they are found through the already imported package.)
"""

import os
import sys


def _drop_working_folder() -> None:
    try:
        here = os.path.realpath(os.getcwd())
    except OSError:  # the working folder was deleted: only relative entries can name it
        here = None
    kept = []
    for entry in sys.path:
        if entry in ("", "."):
            continue
        if here is not None and not os.path.isabs(entry):
            continue  # relative entries are resolved against the working folder
        if here is not None and os.path.realpath(entry) == here:
            continue
        kept.append(entry)
    sys.path[:] = kept


_drop_working_folder()

from integ_lint.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
