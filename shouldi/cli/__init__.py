"""The command line. Heavy modules are imported inside commands, so ``--help`` stays fast."""

__all__: list[str] = []
