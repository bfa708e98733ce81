"""Arithmetic, deliberately boring."""


def add(a: int, b: int) -> int:
    """Return the sum of two integers."""
    return a + b
