# fleet as a container: `docker build -t fleet .`, then for example
#   docker run --rm fleet sim --hours 1
#   docker run -d --stop-timeout 300 -p 9464:9464 \
#     -v /srv/fleet/config:/etc/fleet:ro -e FLEET_CONFIG=/etc/fleet/fleet.json fleet
# With no config mounted, the image's own config/default.json and example policies apply; every key
# can also be set by a FLEET_* variable. AWS credentials come from the SDK's chain (instance or pod
# role, AWS_* variables); none are baked in.
# For production, pin the base images by digest (node:24-bookworm-slim@sha256:...).

# Build: compile TypeScript with the dev dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN npm run build

# Runtime dependencies only, exactly as locked.
FROM node:24-bookworm-slim AS deps
WORKDIR /opt/fleet
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# The image: Node, the runtime dependencies, the compiled CLI, the default config and policies.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/fleet
COPY --from=deps /opt/fleet/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY config ./config
COPY policies ./policies
RUN chmod 0755 dist/cli/main.js \
 && ln -s /opt/fleet/dist/cli/main.js /usr/local/bin/fleet \
 && mkdir -p /var/lib/fleet \
 && chown 1000:1000 /var/lib/fleet
# The base image's unprivileged `node` user, by number so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
# A local state directory (`FLEET_STATE=/var/lib/fleet/state`) when the state is not on S3. With no
# ./config/default.json here, fleet reads the one in /opt/fleet.
WORKDIR /var/lib/fleet
EXPOSE 9464
# /healthz answers 200 while cycles succeed and while a replica stands by for the leader lease.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.FLEET_METRICS_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# reconcile finishes the action in flight on SIGTERM, then exits 0: give it time (docker run
# --stop-timeout, Kubernetes terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
ENTRYPOINT ["fleet"]
CMD ["reconcile"]
