"""innoplat: the library municipal innovation platforms run on."""

__version__ = "0.1.0"
