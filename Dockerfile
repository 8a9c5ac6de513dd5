# Images of the npm workspaces that run in a cluster, from one recipe so both get the same hardening.
# WORKSPACE picks one: service (the default) or operator (the ExpressApp controller). Build from the
# repository root (npm workspaces share one lockfile):
#   docker build -t express-sqlize/service:dev .
#   docker build --build-arg WORKSPACE=operator -t ghcr.io/express-sqlize/expressapp-operator:dev .
# (make image-build builds both, with version, revision and date labels.)
#
# - Base: the official node:24-bookworm-slim (hack/docker-base.sh builds a stand-in of that name
#   where no registry is reachable). NODE_IMAGE may pin a digest.
# - Dependencies: `npm ci` from the lockfile with install scripts off (bcrypt loads its shipped
#   prebuilds; SQLite is Node's built-in node:sqlite), so the build is reproducible and runs no
#   install code from the registry.
# - Final stage: production dependencies and compiled dist/ of the one workspace (no sources, no dev
#   dependencies, no npm cache), owned by root and read-only for the non-root runtime user 10001, so
#   the container runs with a read-only root filesystem (the chart mounts an emptyDir at /tmp).
# - Signals: node runs as PID 1 without a shell or init in between. PID 1 gets no default signal
#   actions from the kernel, which is fine here because both programs install their own SIGTERM and
#   SIGINT handlers (the service: /ready turns 503, the listener closes after SHUTDOWN_DELAY_MS,
#   in-flight requests get SHUTDOWN_TIMEOUT_MS; the operator: the informers and work queue stop and
#   the leader Lease is released so a standby takes over at once) and start no child processes that
#   would need reaping, so neither tini nor `docker run --init` is needed.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG WORKSPACE=service

# Only the package manifests, so the dependency layers below are rebuilt only when they change.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /manifests/ \; \
 && cp package-lock.json /manifests/

FROM ${NODE_IMAGE} AS build
ARG WORKSPACE
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
RUN case "${WORKSPACE}" in service|operator) ;; \
      *) echo "WORKSPACE is '${WORKSPACE}': build service or operator" >&2; exit 1 ;; esac
COPY --from=manifests /manifests/ ./
RUN npm ci --ignore-scripts
COPY tsconfig.base.json tsconfig.json ./
COPY ${WORKSPACE}/ ${WORKSPACE}/
RUN npm run build -w "${WORKSPACE}" \
 && rm -f "${WORKSPACE}/dist/.tsbuildinfo"

# Production dependencies of this workspace only: dev dependencies and the other workspaces'
# dependencies are pruned by installing just what it needs from the same lockfile.
FROM ${NODE_IMAGE} AS prod-deps
ARG WORKSPACE
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY --from=manifests /manifests/ ./
RUN npm ci --omit=dev --ignore-scripts --workspace "${WORKSPACE}" \
 && mkdir -p "${WORKSPACE}/node_modules"

FROM ${NODE_IMAGE} AS runtime
ARG WORKSPACE
ARG VERSION=0.0.0-dev
ARG GIT_SHA=unknown
ARG BUILD_DATE=unknown
LABEL org.opencontainers.image.source="https://github.com/express-sqlize/express-sqlize-platform" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${GIT_SHA}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.base.name="docker.io/library/node:24-bookworm-slim"
# A named user for libraries that look the UID up; the UID is above 10000 so it never maps to a
# host account, and numeric in USER so Kubernetes can verify runAsNonRoot.
RUN groupadd --gid 10001 app && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin app
ENV NODE_ENV=production APP_VERSION=${VERSION} GIT_SHA=${GIT_SHA}
WORKDIR /app
COPY --from=prod-deps /app/package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=prod-deps /app/${WORKSPACE}/package.json ./${WORKSPACE}/
COPY --from=prod-deps /app/${WORKSPACE}/node_modules ./${WORKSPACE}/node_modules
COPY --from=build /app/${WORKSPACE}/dist ./${WORKSPACE}/dist
WORKDIR /app/${WORKSPACE}
USER 10001:10001
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/main.js"]

# What differs per workspace: its description, its environment and its ports.
FROM runtime AS runtime-service
LABEL org.opencontainers.image.title="express-sqlize service" \
      org.opencontainers.image.description="Express 5 + Sequelize users API with JWT, RBAC, Redis-backed distributed features and Prometheus metrics"
# STATE_DIR (generated dev secrets, the default SQLite file) under /tmp, writable with a read-only root.
ENV PORT=3000 STATE_DIR=/tmp/express-sqlize
EXPOSE 3000

FROM runtime AS runtime-operator
LABEL org.opencontainers.image.title="express-sqlize operator" \
      org.opencontainers.image.description="Kubernetes operator that reconciles ExpressApp resources: replicas, Redis settings and feature flags of express-sqlize releases"
# Metrics and health probes (manifests/manager/deployment.yaml).
EXPOSE 8080 8081

FROM runtime-${WORKSPACE}
