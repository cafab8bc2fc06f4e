"""``python -m bprop`` and the ``bprop`` console script: run :func:`bprop.cli.main`."""

import sys


def main():
    """Entry point: exit with the status :func:`bprop.cli.main` returns."""
    from .cli import main as cli_main

    for stream in (sys.stdout, sys.stderr):
        # a console that cannot print η, λ or ½ (PYTHONIOENCODING=ascii) gets a '?' for
        # each, not a UnicodeEncodeError traceback in the middle of --help
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    sys.exit(cli_main())


if __name__ == "__main__":
    main()
