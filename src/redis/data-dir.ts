import { dirname, join, resolve } from "node:path";

/**
 * `npm start`'s embedded Redis keeps its data and address file in `data/` next to the config file,
 * else in cwd; the keys folder, the local admin token and serve's lock file default to it too.
 */
export function embeddedDataDir(ctx: { configSource: string | null; cwd?: string }): string {
  const cwd = ctx.cwd ?? process.cwd();
  return ctx.configSource ? join(dirname(resolve(cwd, ctx.configSource)), "data") : resolve(cwd, "data");
}
