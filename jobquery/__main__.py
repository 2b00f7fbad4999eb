"""``python -m jobquery``: the same command line as the ``jobquery`` script."""

from jobquery.console import main

main()
