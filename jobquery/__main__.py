"""``python -m jobquery``: the same command line as the ``jobquery`` script."""

from jobquery.cli import main

main()
