"""A harmless package: greetings and arithmetic."""

from cleanpkg.maths import add

__all__ = ["add", "greet"]
__version__ = "1.0.0"


def greet(name: str) -> str:
    """Say hello."""
    return f"Hello, {name}!"
