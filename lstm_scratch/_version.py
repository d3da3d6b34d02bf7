"""The library's version, in a module of its own: setup.py reads it without importing the
package, and `forecasting.serialization` records it without importing the package's top."""

__version__ = "0.1.0"
