"""The command-line layer: one module per verb wires its commands to the library.

:mod:`skillmap.cli` assembles them into the ``skillmap`` program and is the error boundary.
Nothing below this layer imports typer or knows about command-line options, and no stage
package holds command-line code (the import rule of ``tests/test_layers.py``).
"""
