"""gridgov: grassroots social governance platform."""

__version__ = "0.1.0"
