"""placeholder"""
from .store import Store  # noqa: F401
