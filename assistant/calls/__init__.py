"""Call logs: numbers (E.164 in the principal's region), matching a number to a name, and importers of phone exports."""
from assistant.core.phones import NumberInfo, normalise

__all__ = ["NumberInfo", "normalise"]
