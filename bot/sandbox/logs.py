"""Log lines for a simulated pod, generated from its image's behaviour profile.

Deterministic: the random generator is seeded from the pod and image, so the same pod always logs the
same lines. Request lines follow the profile (traffic per endpoint, error probability, status split,
latency), so the share of ERROR/WARN lines matches the error rate the metrics API reports. Each failed
request is also returned as a `RequestRecord`, so the metrics API can quote request IDs that really
appear in the logs.

Line format (what the platform's services print):
    2026-11-28T10:07:12.431Z ERROR [auth-service] request_id=req-8f2c1a9e POST /auth/validate 500 <message>
followed, for unhandled exceptions, by the traceback lines.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from string import Template

from . import planted_secrets
from .scenario import Endpoint, LogMessage, Profile, parse_duration

# A pod logs its first request line this long after it was created (image start, readiness).
STARTUP_DELAY = timedelta(seconds=2)
# A fresh pod's request lines are at least this far apart, even if that runs a few seconds past "now".
_MIN_SPACING = timedelta(milliseconds=20)


@dataclass(frozen=True)
class RequestRecord:
    """One failed request as logged; the metrics API samples these."""

    ts: datetime
    request_id: str
    endpoint: str
    status: int
    message: str


@dataclass
class PodLog:
    lines: list[str] = field(default_factory=list)
    failures: list[RequestRecord] = field(default_factory=list)
    # When each line was really written (the runtime's timestamp), parallel to `lines`.
    times: list[datetime] = field(default_factory=list)


class RequestIds:
    """Hands out `req-xxxxxxxx` IDs, unique across the whole platform."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def next(self, rng: random.Random) -> str:
        while True:
            candidate = f"req-{rng.getrandbits(32):08x}"
            if candidate not in self._used:
                self._used.add(candidate)
                return candidate


@dataclass(frozen=True)
class PodIdentity:
    service: str
    version: str
    pod: str
    image: str
    clock_offset: timedelta = timedelta(0)  # the pod's clock minus true time


def timestamp(moment: datetime) -> str:
    """`2026-11-28T10:07:12.431Z`, the services' own log timestamp."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _fill(text: str, who: PodIdentity) -> str:
    # string.Template rather than str.format: tracebacks and messages contain braces and quotes.
    return Template(text).safe_substitute(service=who.service, version=who.version, pod=who.pod)


def _line(moment: datetime, level: str, who: PodIdentity, text: str) -> str:
    return f"{timestamp(moment + who.clock_offset)} {level} [{who.service}] {text}"


class _Traffic:
    """Draws requests (endpoint, status, duration) with the profile's probabilities."""

    def __init__(self, profile: Profile, rng: random.Random) -> None:
        self._profile = profile
        self._rng = rng
        self._cumulative = _cumulative([e.traffic for e in profile.endpoints])
        latency = profile.latency
        # Piecewise-linear inverse CDF through the known percentiles; crude but keeps p50/p95/p99 right.
        self._quantiles = [0.0, 0.5, 0.95, 0.99, 1.0]
        self._durations = [latency.p50_ms * 0.35, latency.p50_ms, latency.p95_ms, latency.p99_ms,
                           latency.p99_ms * 1.4]

    def endpoint(self) -> Endpoint:
        index = bisect.bisect_right(self._cumulative, self._rng.random() * self._cumulative[-1])
        return self._profile.endpoints[min(index, len(self._profile.endpoints) - 1)]

    def status(self, endpoint: Endpoint) -> int:
        """200, or an error status with P(error | endpoint) from the endpoint's share of errors."""
        if endpoint.traffic == 0:
            return 200
        error_probability = min(1.0, self._profile.error_rate * endpoint.errors / endpoint.traffic)
        if self._rng.random() >= error_probability:
            return 200
        split = endpoint.status_split or self._profile.status_split
        statuses = list(split)
        return int(self._rng.choices(statuses, weights=[split[s] for s in statuses])[0])

    def duration_ms(self) -> int:
        u = self._rng.random()
        i = max(1, bisect.bisect_left(self._quantiles, u))
        q0, q1 = self._quantiles[i - 1], self._quantiles[i]
        d0, d1 = self._durations[i - 1], self._durations[i]
        return round(d0 + (d1 - d0) * (u - q0) / (q1 - q0))


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _message_for(status: int, profile: Profile, rng: random.Random) -> LogMessage:
    choices = profile.logs.errors.get(str(status))
    if choices:
        return rng.choice(choices)
    return LogMessage(text=HTTPStatus(status).phrase)


def _request_times(created: datetime, now: datetime, profile: Profile, rng: random.Random) -> list[datetime]:
    """When the logged requests happened: the last `coverage` of the pod's life, fewer for young pods."""
    logs = profile.logs
    coverage = timedelta(seconds=parse_duration(logs.coverage))
    start = created + STARTUP_DELAY
    if now - start >= coverage:
        count, begin, end = logs.entries, now - coverage, now
    else:
        age = max(now - start, timedelta(0))
        count = max(logs.min_entries, round(logs.entries * (age / coverage)))
        begin, end = start, max(now, start + _MIN_SPACING * count)
    if count == 0:
        return []
    step = (end - begin) / count
    return [begin + step * (k + rng.random()) for k in range(count)]


def generate_pod_log(
    who: PodIdentity, profile: Profile, *, created: datetime, now: datetime, ids: RequestIds
) -> PodLog:
    """The pod's log since it started, as of `now`; seeded from the pod name and image."""
    writer = _PodLogWriter(who, profile, ids)
    for k, text in enumerate(profile.logs.startup):
        writer.plain(created + timedelta(milliseconds=300 * (k + 1)), text)
    if profile.logs.plant_secrets:
        writer.plant_secrets(created + timedelta(milliseconds=300 * (len(profile.logs.startup) + 1)))
    periodic, every = profile.logs.periodic, profile.logs.periodic_every
    for k, moment in enumerate(_request_times(created, now, profile, writer.rng)):
        if periodic and k % every == every - 1:
            writer.plain(moment, writer.rng.choice(periodic))
        writer.request(moment)
    return writer.out


class _PodLogWriter:
    def __init__(self, who: PodIdentity, profile: Profile, ids: RequestIds) -> None:
        self.who = who
        self.profile = profile
        self.ids = ids
        self.rng = random.Random(f"{who.pod}|{who.image}")
        self.traffic = _Traffic(profile, self.rng)
        self.out = PodLog()

    def plain(self, moment: datetime, text: str) -> None:
        self.out.lines.append(_line(moment, "INFO", self.who, _fill(text, self.who)))
        self.out.times.append(moment)

    def request(self, moment: datetime) -> None:
        """One access-log line; a failure adds its message, traceback and a RequestRecord."""
        endpoint = self.traffic.endpoint()
        status = self.traffic.status(endpoint)
        request_id = self.ids.next(self.rng)
        duration = self.traffic.duration_ms()
        prefix = f"request_id={request_id} {endpoint.endpoint} {status}"
        if status < 400:
            self.out.lines.append(_line(moment, "INFO", self.who, f"{prefix} {duration}ms"))
            self.out.times.append(moment)
            return
        message = _message_for(status, self.profile, self.rng)
        text = _fill(message.text, self.who)
        level = message.level or ("ERROR" if status >= 500 else "WARN")
        self.out.lines.append(_line(moment, level, self.who, f"{prefix} {text}"))
        self.out.lines.extend(_fill(line, self.who) for line in message.traceback)
        self.out.times.extend([moment] * (1 + len(message.traceback)))
        self.out.failures.append(RequestRecord(moment, request_id, endpoint.endpoint, status, text))


    def plant_secrets(self, moment: datetime) -> None:
        """The `plant_secrets` knob: credentials at start-up, and a failed request that dumps its headers."""
        for k, text in enumerate(planted_secrets.STARTUP_LINES):
            self.plain(moment + timedelta(milliseconds=k), text)
        request_id = self.ids.next(self.rng)
        failed_at = moment + timedelta(milliseconds=len(planted_secrets.STARTUP_LINES) + 1)
        endpoint = self.profile.endpoints[0].endpoint
        message = planted_secrets.ERROR_MESSAGE
        self.out.lines.append(_line(failed_at, "ERROR", self.who, f"request_id={request_id} {endpoint} 500 {message}"))
        self.out.lines.extend(planted_secrets.TRACEBACK)
        self.out.times.extend([failed_at] * (1 + len(planted_secrets.TRACEBACK)))
        self.out.failures.append(RequestRecord(failed_at, request_id, endpoint, 500, message))


def previous_log(who: PodIdentity, profile: Profile, *, finished: datetime) -> list[str]:
    """What the crashed previous instance of the container printed last (`kubectl logs --previous`).

    The YAML lines carry their own level (`ERROR [$service] MemoryError ...`); only the timestamp is added.
    """
    times = previous_times(profile, finished=finished)
    return [f"{timestamp(at)} {_fill(text, who)}"
            for at, text in zip(times, profile.logs.previous, strict=True)]


def previous_times(profile: Profile, *, finished: datetime) -> list[datetime]:
    """When the previous instance wrote each of its lines: 250 ms apart, or spread over `previous_span`."""
    count = len(profile.logs.previous)
    span = profile.logs.previous_span
    if span is None:
        step = timedelta(milliseconds=250)
        first = finished - step * count
    else:
        step = timedelta(seconds=parse_duration(span)) / max(count - 1, 1)
        first = finished - step * max(count - 1, 1)
    return [first + step * k for k in range(count)]
