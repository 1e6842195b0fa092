"""The files ``innoplat new-plugin`` writes, as ``string.Template`` texts (``*.tmpl``)."""
