"""Nothing to see here."""

VERSION = "0.1.0"
