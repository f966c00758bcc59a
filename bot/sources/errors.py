"""The one error type every source raises, so a check can turn any failure into an `error` finding."""


class SourceError(Exception):
    """A source could not answer: unreachable, timed out, refused, or answered nonsense."""

    def __init__(self, source: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message
        # The HTTP status when the source answered with one, so callers can tell "absent" (404) from "broken".
        self.status = status
