"""The main screen (``screen.py``), its event feed (``core.py``) and its flows."""

from .screen import MainScreen

__all__ = ["MainScreen"]
