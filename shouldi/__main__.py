"""``python -m shouldi``."""

from shouldi.cli.main import main

main()
