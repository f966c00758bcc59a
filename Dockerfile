# opsbot's image: `docker build -t opsbot .`, then `docker run opsbot` runs `opsbot run` (other subcommands:
# `docker run opsbot check-config`). Kubernetes probes /healthz and /readyz, so no HEALTHCHECK here.
# Pin the base image by digest in your registry mirror for bit-for-bit rebuilds.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: install the locked dependencies (every file hash-checked) and opsbot's wheel into a venv ---
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements.lock requirements-build.lock ./
RUN python -m venv /opt/opsbot \
 && /opt/opsbot/bin/pip install --require-hashes --no-deps --only-binary=:all: -r requirements.lock \
 && python -m pip install --require-hashes --no-deps -r requirements-build.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
# --no-deps: the lock above is the whole dependency set; a dependency missing from it fails at import in CI
# (tests/deploy/test_dockerfile.py checks the lock covers pyproject.toml), never silently at build time.
RUN python -m pip wheel --no-deps --no-build-isolation --wheel-dir /dist . \
 && /opt/opsbot/bin/pip install --no-deps --no-index /dist/*.whl

# --- runtime: the venv, the maintenance manifest, a non-root user; nothing else ---
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 opsbot \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin opsbot
COPY --from=build /opt/opsbot /opt/opsbot
WORKDIR /app
# The maintenance action applies this file (ops config action_limits.maintenance_manifest, relative to /app).
COPY manifests/maintenance-mode.yaml manifests/maintenance-mode.yaml
ENV PATH=/opt/opsbot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=3000
# Numeric, so Kubernetes' runAsNonRoot can verify it without resolving names.
USER 10001:10001
EXPOSE 3000
ENTRYPOINT ["opsbot"]
CMD ["run"]
