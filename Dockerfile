# syntax=docker/dockerfile:1
# One image, three entry points (api by default; worker and cli by overriding the command):
#   docker run IMAGE                                   # api on :3000
#   docker run IMAGE node --max-old-space-size=256 --max-semi-space-size=8 apps/worker/dist/main.js   # worker, health on :9464
#   docker run IMAGE provisioner --help                # cli
# Kubernetes: set `args:` (not `command:`) so tini stays PID 1.

# Node 24 LTS, the same major as .nvmrc, package.json's engines and scripts/ensure-node.sh.
# Pinned to the exact release and by digest: the multi-architecture index of
# node:24.21.0-bookworm-slim (amd64 and arm64 laptops alike), as other public projects pin
# it. This machine reaches no image registry, so re-check it where one is reachable:
#   docker buildx imagetools inspect node:24.21.0-bookworm-slim --format '{{json .Manifest.Digest}}'
# A wrong digest fails the build loudly ("manifest unknown"); it never pulls something else.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:2fe369e969550cde8e867afc3fe370b260140cab4a23d467074295b42163d553

# ---- build: all dependencies, compile every workspace ---------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages/core/package.json packages/core/
COPY packages/adapters/package.json packages/adapters/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/cli/package.json apps/cli/
COPY tools/stack/package.json tools/stack/
COPY tools/grafana-contract/package.json tools/grafana-contract/
RUN npm ci --no-audit --no-fund
COPY packages packages
COPY apps apps
COPY tools tools
RUN npx tsc -b

# ---- deps: production dependencies only, from the lockfile -----------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/core/package.json packages/core/
COPY packages/adapters/package.json packages/adapters/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/cli/package.json apps/cli/
COPY tools/stack/package.json tools/stack/
COPY tools/grafana-contract/package.json tools/grafana-contract/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime: node, tini, production node_modules, compiled output ---------------------
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 provisioner \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin provisioner \
 && printf '#!/bin/sh\nexec node /app/apps/cli/dist/main.js "$@"\n' > /usr/local/bin/provisioner \
 && chmod 0755 /usr/local/bin/provisioner
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps --chown=root:root /app ./
COPY --from=build --chown=root:root /app/packages/core/dist packages/core/dist
COPY --from=build --chown=root:root /app/packages/adapters/dist packages/adapters/dist
COPY --from=build --chown=root:root /app/apps/api/dist apps/api/dist
COPY --from=build --chown=root:root /app/apps/worker/dist apps/worker/dist
COPY --from=build --chown=root:root /app/apps/cli/dist apps/cli/dist
# Files stay root-owned and read-only to the process; the root filesystem can be read-only.
USER 10001:10001
EXPOSE 3000 9464
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--max-old-space-size=160", "--max-semi-space-size=2", "apps/api/dist/main.js"]
