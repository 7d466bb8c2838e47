"""SatuPintu: one door for every customer on every channel."""

__version__ = "0.1.0"
