"""Designation lists as ingest formats: ``ofac-csv``, ``ofac-cons`` and ``un-xml``.

Importing this package registers them with the core (entry point ``binational.formats``).
OpenSanctions' FtM JSON lines need no format of their own: the core ``ftm`` format reads them.
"""

from binational.screening.lists import ofac, un

__all__ = ["ofac", "un"]
