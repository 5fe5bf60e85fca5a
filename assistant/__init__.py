"""Assistant: one workspace for a virtual assistant's principals."""
__version__ = "0.1.0"
