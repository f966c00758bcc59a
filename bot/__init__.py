"""opsbot: the platform troubleshooting guide as a ChatOps bot."""

__version__ = "0.1.0"
