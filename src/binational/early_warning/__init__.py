"""Drug early warning: aberration detection on count series, alerts, substance register.

The public surface: ``detect`` (run one algorithm on a series), ``ALGORITHMS``, and the
``EarlyWarning`` service (series, alerts, subscriptions, substance register).
"""

from binational.early_warning.algorithms import ALGORITHMS, Detection, SeriesTooShort, detect

__all__ = ["ALGORITHMS", "Detection", "SeriesTooShort", "detect"]
