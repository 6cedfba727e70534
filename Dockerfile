# syntax=docker/dockerfile:1
# clawgate serve as a container: compiled JavaScript, production dependencies only, non-root,
# tini as PID 1 (signals reach Node, zombies are reaped), health from /readyz.
#   docker build -t clawgate .
#   docker run --rm -e REDIS_URL=redis://redis:6379 -p 127.0.0.1:8787:8787 clawgate
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, tsc → dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/
COPY src src
COPY queue queue
COPY bots bots
COPY templates templates
RUN node scripts/build.mjs

# ---- runtime: production dependencies installed here (never at container start)
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    LOG_FORMAT=json \
    CLAWGATE_CONFIG=/etc/clawgate/clawgate.yaml
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY bin ./bin
# The quick-start config as a default; mount your own over it (read-only is enough).
COPY clawgate.yaml /etc/clawgate/clawgate.yaml
# Where serve keeps its decision key when no keys.signing is given (a volume in compose): owned by
# the user serve runs as, so a fresh named volume starts writable for it and for nobody else.
RUN mkdir -p /var/lib/clawgate && chown node:node /var/lib/clawgate && chmod 700 /var/lib/clawgate
USER node
EXPOSE 8787
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8787/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/clawgate.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8787"]
