"""Messages people write: a problem report gets triaged; questions, jokes, chit-chat and deploy notes don't."""

from __future__ import annotations

import re

_QUESTION_START = re.compile(
    r"(?i)^\s*(?:hey\s+\w+[,!]?\s+)?(?:what|why|how|when|where|who|which|is|are|was|were|does|do|did|should|shall"
    r"|can|could|would|will|anyone|anybody|any idea)\b"
)
_JOKE = re.compile(
    r"(?i)\b(?:lol|lmao|rofl|haha\w*|jk|just kidding|kidding)\b|😂|🤣|:joy:|:laughing:|:rolling_on_the_floor_laughing:"
)
_DEPLOY = re.compile(
    r"(?i)\b(?:deploy(?:ed|ing|ment)?|releas(?:ed|ing)|rolled out|rolling out|shipp(?:ed|ing)|merged"
    r"|promot(?:ed|ing))\b"
)
_TROUBLE = re.compile(
    r"(?i)\b(?:fail\w*|error\w*|broken|down|crash\w*|outage|alert|firing|rollback|rolled back|5\d\d|4\d\d|slow\w*"
    r"|timeout\w*|timed out|oom\w*|unavailable|throwing|spik\w*|degraded)\b"
)
_RESOLUTION = re.compile(r"(?i)^\s*(?:fixed|resolved|all good|recovered|back to normal|it'?s back|mitigated)\b")


def quoted_only(text: str) -> bool:
    """Every non-empty line is a quote (`> ...`): someone citing an old alert, not a new problem."""
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(line.lstrip().startswith(">") for line in lines)


def without_quotes(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def noise_reason(text: str, *, names_symptom: bool) -> str | None:
    """Why a person's message is not a problem report, or None when it may be one."""
    stripped = text.strip()
    if not stripped:
        return "empty message"
    if quoted_only(stripped):
        return "quotes an earlier message"
    if _JOKE.search(stripped):
        return "a joke, not a report"
    if stripped.endswith("?") or _QUESTION_START.match(stripped):
        return "a question, not a report"
    if _RESOLUTION.match(stripped):
        return "a resolution note"
    if not names_symptom and _DEPLOY.search(stripped) and not _TROUBLE.search(_DEPLOY.sub(" ", stripped)):
        return "a deploy notification"
    return None


def deploy_bot(username: str, text: str) -> bool:
    """CI/CD bots announce deploys; a deploy that failed is still worth a look, so failures are kept."""
    name = username.lower()
    by_bot = any(word in name for word in ("deploy", "argo", "flux", "spinnaker", "jenkins", "github", "gitlab",
                                           "circleci", "harness", "release"))
    return (by_bot or bool(_DEPLOY.search(text))) and not re.search(r"(?i)\bfail(?:ed|ure|ing)?\b", text)
