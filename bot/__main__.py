"""``python -m bot``: the same as the ``migbot`` command."""

from bot.cli import main

main()
