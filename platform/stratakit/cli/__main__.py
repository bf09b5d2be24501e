"""``python -m stratakit.cli``: the ``strata`` command."""

from stratakit.cli import main

main()
