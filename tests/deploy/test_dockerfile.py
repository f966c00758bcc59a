"""The Dockerfile and its locks, checked without a Docker engine: the lock pins every dependency of
pyproject.toml (and theirs) at a version the specifiers accept, every pin carries hashes, and the image runs
`opsbot run` as a non-root user from a slim Python 3.11 base."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.config import load_ops_config

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)")


def _pins(path: Path) -> dict[str, str]:
    return {canonicalize_name(m[1]): m[2] for line in path.read_text().splitlines() if (m := _PIN.match(line))}


def _hashed_blocks(path: Path) -> dict[str, int]:
    """Pinned name -> number of --hash lines under it."""
    counts: dict[str, int] = {}
    current = None
    for line in path.read_text().splitlines():
        if m := _PIN.match(line):
            current = canonicalize_name(m[1])
            counts[current] = 0
        elif current and line.strip().startswith("--hash=sha256:"):
            counts[current] += 1
    return counts


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_lock_pins_every_runtime_dependency_within_its_specifier() -> None:
    pins = _pins(ROOT / "requirements.lock")
    dependencies = _pyproject()["project"]["dependencies"]  # type: ignore[index]
    assert dependencies
    for spec in dependencies:  # type: ignore[attr-defined]
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is in pyproject.toml but not in requirements.lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"requirements.lock pins {name}=={pins[name]}, outside {requirement.specifier}"
        for extra in requirement.extras:  # psycopg[binary,pool] -> psycopg-binary, psycopg-pool
            assert canonicalize_name(f"{name}-{extra}") in pins or _extra_covered(name, extra, pins)


def _extra_covered(name: str, extra: str, pins: dict[str, str]) -> bool:
    wanted = [Requirement(r) for r in metadata.requires(name) or ()]
    needed = [r for r in wanted if r.marker and r.marker.evaluate({"extra": extra})]
    return all(canonicalize_name(r.name) in pins for r in needed)


def test_lock_is_closed_under_the_dependencies_of_what_it_pins() -> None:
    """The image installs with --no-deps, so a transitive dependency missing from the lock would be missing
    from the image. Checked with the metadata of the distributions the tests run with: the lock was compiled
    with those versions as constraints, and a fresh CI venv may resolve a newer patch release with (almost
    always) the same dependency names."""
    pins = _pins(ROOT / "requirements.lock")
    missing: set[str] = set()
    for name in pins:
        for raw in metadata.requires(name) or ():
            requirement = Requirement(raw)
            applies = requirement.marker is None or requirement.marker.evaluate({"extra": ""})
            if applies and canonicalize_name(requirement.name) not in pins:
                missing.add(f"{requirement.name} (needed by {name})")
    assert not missing, f"requirements.lock lacks: {sorted(missing)}"


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-build.lock"])
def test_every_pin_carries_hashes(lock: str) -> None:
    blocks = _hashed_blocks(ROOT / lock)
    assert blocks and all(count >= 1 for count in blocks.values()), \
        [name for name, count in blocks.items() if count == 0]


def test_build_lock_covers_the_build_system() -> None:
    pins = _pins(ROOT / "requirements-build.lock")
    for spec in _pyproject()["build-system"]["requires"]:  # type: ignore[index]
        requirement = Requirement(spec)
        assert requirement.specifier.contains(pins[canonicalize_name(requirement.name)])


def test_image_is_slim_python_311_non_root_and_runs_opsbot_run() -> None:
    instructions = _instructions()
    bases = [args for op, args in instructions if op == "FROM"]
    default_base = next(args for op, args in instructions if op == "ARG" and args.startswith("PYTHON_IMAGE="))
    assert default_base.split("=", 1)[1].startswith("python:3.11-slim")
    assert bases and all(base.startswith("${PYTHON_IMAGE}") for base in bases)
    final_stage = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM"):]
    users = [args for op, args in final_stage if op == "USER"]
    assert users and re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", users[-1]), "the final stage must run as numeric uid"
    entrypoint = next(args for op, args in final_stage if op == "ENTRYPOINT")
    command = next(args for op, args in final_stage if op == "CMD")
    assert (entrypoint, command) == ('["opsbot"]', '["run"]')
    assert not any(op == "HEALTHCHECK" for op, _ in instructions), "Kubernetes probes do the health checks"
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert "--require-hashes" in runs and "-r requirements.lock" in runs


def test_image_uid_matches_the_deployment_security_context() -> None:
    import yaml

    deployment = yaml.safe_load((ROOT / "manifests" / "k8s" / "deployment.yaml").read_text())
    user = next(args for op, args in _instructions() if op == "USER")
    uid, gid = (int(part) for part in user.split(":"))
    pod = deployment["spec"]["template"]["spec"]["securityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"]) == (uid, gid)


def test_image_ships_the_maintenance_manifest_where_the_ops_config_looks() -> None:
    copied = [args.split() for op, args in _instructions() if op == "COPY" and "maintenance-mode.yaml" in args]
    workdir = [args for op, args in _instructions() if op == "WORKDIR"][-1]
    configured = load_ops_config(None).action_limits.maintenance_manifest
    assert copied and copied[-1][-1] == configured and workdir == "/app"
    assert (ROOT / configured).is_file()


def test_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv"} <= set(ignored)
