import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { loadConfig } from "../../src/config/load.ts";

/**
 * The deployment files promise things operators rely on: secrets reach the container, Redis is
 * persistent and not published, probes hit routes serve answers, selectors match. `docker
 * compose config` and `kubectl kustomize` (in .ci/run) check the syntax; this checks the promises.
 */
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

type Obj = Record<string, any>;
const compose = parse(read("docker-compose.yml")) as Obj;
const k8s = ["redis", "deployment", "service", "pdb"].flatMap((f) => parseAllDocuments(read(`deploy/kubernetes/${f}.yaml`)).map((d) => d.toJS() as Obj));
const byKind = (kind: string, name: string) => k8s.find((o) => o.kind === kind && o.metadata?.name === name) as Obj;
/** Every ${VAR} the production config reads, commented-out channel blocks included. */
const configVars = [...read("deploy/clawgate.yaml").matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1] as string);

describe("docker-compose.yml", () => {
  const app = compose.services.clawgate as Obj;
  const redis = compose.services.redis as Obj;

  it("passes every variable the config reads through to the container, and stores no secret", () => {
    expect(configVars).toEqual(expect.arrayContaining(["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_BOT_TOKEN", "SMTP_PASS", "IMAP_PASS", "CLAWGATE_API_TOKEN"]));
    for (const v of configVars) expect(Object.keys(app.environment), v).toContain(v);
    for (const [k, v] of Object.entries(app.environment as Obj)) if (/TOKEN|SECRET|PASS|KEY/.test(k)) expect(v, k).toBeNull();
  });

  it("runs the built image (no install at start), waits for a healthy Redis, and mounts the config read-only", () => {
    expect(app.build).toBe(".");
    expect(JSON.stringify(app.command)).not.toMatch(/npm|sh -c/);
    expect(app.depends_on).toEqual({ redis: { condition: "service_healthy" } });
    expect(app.volumes).toEqual(["${CLAWGATE_CONFIG_FILE:-./deploy/clawgate.yaml}:/etc/clawgate/clawgate.yaml:ro", "clawgate-data:/var/lib/clawgate"]);
    expect(app.environment.CLAWGATE_DATA_DIR).toBe("/var/lib/clawgate");
    expect(Object.keys(compose.volumes)).toContain("clawgate-data");
    expect(app.read_only).toBe(true);
    expect(app.ports).toEqual(["127.0.0.1:8787:8787"]);
  });

  it("keeps Redis append-only, health-checked and off the host's 6379", () => {
    expect(redis.command).toEqual(expect.arrayContaining(["--appendonly", "yes"]));
    expect(redis.healthcheck.test).toEqual(["CMD", "redis-cli", "ping"]);
    expect(redis.ports).toBeUndefined();
  });

  it("uses a config that validates with the variables compose provides", () => {
    const { config } = loadConfig({ path: new URL("../../deploy/clawgate.yaml", import.meta.url).pathname, env: { REDIS_URL: "redis://redis:6379" } });
    expect(config.server).toMatchObject({ host: "0.0.0.0", port: 8787 });
    expect(config.redis.url).toBe("redis://redis:6379");
  });
});

describe("Dockerfile", () => {
  const text = read("Dockerfile");
  const runtime = text.slice(text.indexOf("AS runtime"));

  it("installs production dependencies in the image, runs as non-root under tini, and checks /readyz", () => {
    expect(runtime).toContain("npm ci --omit=dev --ignore-scripts");
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "\/app\/bin\/clawgate.js"\]$/m);
    expect(runtime).toMatch(/HEALTHCHECK[^\n]*\n[^\n]*\/readyz/);
    expect(runtime).toContain("COPY --from=build /src/dist ./dist");
  });
});

describe("deploy/kubernetes", () => {
  const deployment = byKind("Deployment", "clawgate");
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0] as Obj;

  it("runs N serve replicas probed on the routes serve answers", () => {
    expect(deployment.spec.replicas).toBeGreaterThan(1);
    expect(container.args).toEqual(["serve", "--host", "0.0.0.0", "--port", "8787"]);
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    const serveSource = read("src/server/serve.ts");
    for (const path of ["/readyz", "/healthz"]) expect(serveSource).toContain(`"GET", "${path}"`);
  });

  it("points every replica at the one Redis, reads secrets from a Secret and the config from the ConfigMap", () => {
    const env = Object.fromEntries((container.env as Obj[]).map((e) => [e.name, e.value]));
    const redisService = byKind("Service", "clawgate-redis");
    expect(env.REDIS_URL).toBe(`redis://${redisService.metadata.name}:${redisService.spec.ports[0].port}`);
    expect(container.envFrom).toEqual([{ secretRef: { name: "clawgate-secrets", optional: true } }]);
    expect(pod.spec.volumes).toContainEqual({ name: "config", configMap: { name: "clawgate-config" } });
    expect(container.volumeMounts).toContainEqual({ name: "config", mountPath: "/etc/clawgate", readOnly: true });
    const redis = byKind("StatefulSet", "clawgate-redis");
    expect(redis.spec.replicas).toBe(1);
    expect(redis.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(["--appendonly", "yes"]));
  });

  it("gives every replica the same decision key from its own Secret, read-only, and the config reads it from there", () => {
    const env = Object.fromEntries((container.env as Obj[]).map((e) => [e.name, e.value]));
    const mount = (container.volumeMounts as Obj[]).find((m) => m.name === "decision-key") as Obj;
    expect(mount).toMatchObject({ mountPath: "/var/run/clawgate", readOnly: true });
    expect(env.CLAWGATE_DECISION_KEY_FILE).toBe(`${mount.mountPath}/decision.key`);
    expect((pod.spec.volumes as Obj[]).find((v) => v.name === "decision-key")?.secret).toMatchObject({ secretName: "clawgate-decision-key", items: [{ key: "decision.key", path: "decision.key" }] });
    const { config } = loadConfig({ path: new URL("../../deploy/clawgate.yaml", import.meta.url).pathname, env: { REDIS_URL: "redis://x:6379", CLAWGATE_DECISION_KEY_FILE: env.CLAWGATE_DECISION_KEY_FILE } });
    expect(config.keys.signing).toBe("/var/run/clawgate/decision.key");
  });

  it("is non-root and read-only, and the Service and PodDisruptionBudget select the Deployment's pods", () => {
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const labels = pod.metadata.labels;
    expect(byKind("Service", "clawgate").spec.selector).toEqual(labels);
    expect(byKind("PodDisruptionBudget", "clawgate").spec.selector.matchLabels).toEqual(labels);
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
  });
});
