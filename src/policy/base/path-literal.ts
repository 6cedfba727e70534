/**
 * The longest glob-free run of a path glob, without its outer slashes: any path the glob
 * matches contains it (`src/**` → "src", `.env*` → ".env").
 */
export function pathLiteral(glob: string): string {
  let best = "";
  for (const run of glob.split(/[\\*?[\]{}()!+@]/)) {
    const lit = run.replace(/^\/+|\/+$/g, "");
    if (lit.length > best.length) best = lit;
  }
  return best;
}
