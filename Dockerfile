# syntax=docker/dockerfile:1
# migbot: the webhook service (`migbot serve`), the worker and the CLI, in one image.
#
#   docker build -t migbot .
#   docker run --rm -p 8080:8080 --env-file migbot.env migbot
#
# Two stages: the builder turns the source into a wheel; the runtime image gets
# only that wheel and its runtime dependencies (all of them ship manylinux
# wheels, libclang included, so nothing is compiled and no compiler is needed).
# tests/ship/test_ship_container.py runs these same pip steps in a clean
# virtualenv and lints this file with hadolint.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY rules ./rules
COPY bot ./bot
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && cp constraints.txt /wheels/constraints.txt

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# git: migbot reads repositories and mirrors with git plumbing (never a build).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# The wheel is this project itself, built above; its dependencies are pinned by
# constraints.txt, so every build of one commit installs the same versions.
# hadolint ignore=DL3013
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    set -- /wheels/migbot-*.whl \
    && pip install --no-cache-dir -c /wheels/constraints.txt "$1[postgres]"
RUN groupadd --system --gid 10001 migbot \
    && useradd --system --uid 10001 --gid migbot --home-dir /var/lib/migbot --create-home \
       --shell /usr/sbin/nologin migbot
USER 10001:10001
WORKDIR /var/lib/migbot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["migbot", "serve", "--host", "0.0.0.0", "--port", "8080"]
