"""The platform core: entity model, store, sharing policy, audit, ingest, API and CLI.

Capability packages (screening, resolution, ...) build on the core; the core never imports them.
"""
