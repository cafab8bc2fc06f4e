"""``python -m bprop`` and the ``bprop`` console script: run :func:`bprop.cli.main`."""

import sys


def main():
    """Entry point: exit with the status :func:`bprop.cli.main` returns."""
    from .cli import main as cli_main

    sys.exit(cli_main())


if __name__ == "__main__":
    main()
