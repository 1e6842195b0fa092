"""innoplat's built-in plugins: each registered through the `innoplat` entry-point group, like any other."""
