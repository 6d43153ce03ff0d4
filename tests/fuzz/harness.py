"""The atheris entry point shared by the ``fuzz_*.py`` harnesses."""
from __future__ import annotations

import sys
from collections.abc import Callable


def fuzz(check: Callable[[bytes], None]) -> None:
    """Run ``check`` under atheris with the command line's corpus folders and options."""
    import atheris

    atheris.instrument_all()  # the modules under test are imported by then, so instrument what is loaded
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()
