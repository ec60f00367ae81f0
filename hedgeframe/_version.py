"""The package version (kept apart so that low-level modules can import it cheaply)."""

__version__ = "0.1.0"
