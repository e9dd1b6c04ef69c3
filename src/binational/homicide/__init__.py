"""Network for Homicide Prevention: homicide analytics, hot spots, near repeats, forecasting,
Homicide Task Force cases and a bilingual registry of prevention programmes."""
