"""The one error type every source raises, so a check can turn any failure into an `error` finding."""


class SourceError(Exception):
    """A source could not answer: unreachable, timed out, refused, or answered nonsense."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message
