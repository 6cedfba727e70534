/**
 * What the `clawgate` package supports for use from code (`import … from "clawgate"`).
 * An explicit list, not a barrel: everything else under src/ is internal and may change.
 */
export { loadConfig, buildConfig, type LoadOptions, type LoadedConfig } from "../config/load.ts";
export type { ClawgateConfig } from "../config/schema.ts";
export { resolveRedisAddress, describeRedisAddress, type RedisAddress, type RedisAddressSource, type RedisAddressContext } from "../config/redis-address.ts";
export { PolicyEngine, parseRule } from "../policy/engine.ts";
export type { PolicyDecision } from "../policy/types.ts";
export { ClawgateError, toExitCode, type ErrorCode } from "../errors.ts";
export { createLogger, loggerFromOpenClaw, type Logger, type OpenClawLogger } from "../log.ts";
