"""``python -m innoplat.core.cli`` runs the innoplat command."""

from . import main

main()
