"""hello-winners: a workshop kit for the Hello, Retail! stream, its winner view and its analysis."""

__version__ = "0.1.0"
