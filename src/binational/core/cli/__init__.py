"""The operators' command line (``binational``): set-up, administration, ingest, audit, demo.

Capability packages add their own commands with ``app.add_typer(...)`` on
``binational.core.cli.main.app``.
"""
