"""``python -m integ_lint``."""

from integ_lint.cli import main

if __name__ == "__main__":
    main()
