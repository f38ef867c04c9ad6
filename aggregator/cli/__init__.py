"""The command line: a thin layer over the library.

Owns: click and rich, argument parsing, formatting results, progress bars (only on a
TTY), logging to stderr, and exit codes (``commands.py`` lists them).
Must not: hold logic. Each command calls the library and formats what it returns.

Start reading at ``commands.py``; ``inspect.py`` (stats, explain, try-rules…) and
``manage.py`` (feeds, demo) register their commands there.
"""

from .commands import main

__all__ = ["main"]
