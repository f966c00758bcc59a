"""The storm summary: during an alert storm, new alerts are counted in one channel message instead of
each getting a thread. It lists what is firing (most frequent first) and how many alerts it holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.triage.fingerprint import Fingerprint


@dataclass
class SummaryLine:
    label: str
    count: int = 0
    resolved: bool = False


@dataclass
class StormSummary:
    started: float
    last_added: float
    ts: str | None = None  # the channel message, once posted
    lines: dict[str, SummaryLine] = field(default_factory=dict)  # by fingerprint key: finite, see fingerprint.py

    @property
    def total(self) -> int:
        return sum(line.count for line in self.lines.values())

    def add(self, fp: Fingerprint, now: float) -> None:
        line = self.lines.get(fp.key)
        if line is None:
            line = self.lines[fp.key] = SummaryLine(fp.label)
        line.count += 1
        line.resolved = False
        self.last_added = now

    def resolve(self, fp: Fingerprint) -> bool:
        line = self.lines.get(fp.key)
        if line is None:
            return False
        line.resolved = True
        return True

    def ranked(self) -> list[SummaryLine]:
        return sorted(self.lines.values(), key=lambda line: (line.resolved, -line.count, line.label))
