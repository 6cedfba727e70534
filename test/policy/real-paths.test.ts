import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RealPaths } from "../../src/policy/self-protection/real-paths.ts";

const root = mkdtempSync(join(tmpdir(), "cg-real-paths-"));
const target = join(root, "srv", "cg");
mkdirSync(join(target, "data"), { recursive: true });
writeFileSync(join(target, "clawgate.yaml"), "x");
symlinkSync(target, join(root, "link"));
symlinkSync(join(target, "clawgate.yaml"), join(root, "file-link"));
symlinkSync(join(target, "data", "not-yet"), join(root, "dangling"));
symlinkSync("srv/cg", join(root, "relative-link"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("RealPaths: where a path leads, as the kernel walks it", () => {
  const real = new RealPaths();

  it.each<[string, string]>([
    ["link/clawgate.yaml", "srv/cg/clawgate.yaml"],
    ["link", "srv/cg"],
    ["file-link", "srv/cg/clawgate.yaml"],
    ["relative-link/data/x", "srv/cg/data/x"],
    ["link/../cg/clawgate.yaml", "srv/cg/clawgate.yaml"],
    ["link/data/../../cg/./clawgate.yaml", "srv/cg/clawgate.yaml"],
    ["dangling", "srv/cg/data/not-yet"],
    ["missing/deeper/file", "missing/deeper/file"],
    ["srv//cg/clawgate.yaml", "srv/cg/clawgate.yaml"],
  ])("%s → %s", (path, want) => {
    // Joined by hand: path.join would fold the `..` before the walk could follow the link.
    expect(real.resolve(`${root}/${path}`)).toBe(join(root, want));
  });

  it("keeps answers for a second only, so a folder replaced by a symlink is seen", () => {
    let now = 0;
    const clocked = new RealPaths(() => now);
    const dir = join(root, "swap");
    mkdirSync(dir);
    expect(clocked.resolve(join(dir, "clawgate.yaml"))).toBe(join(dir, "clawgate.yaml"));
    rmSync(dir, { recursive: true });
    symlinkSync(target, dir);
    now = 500;
    expect(clocked.resolve(join(dir, "clawgate.yaml"))).toBe(join(dir, "clawgate.yaml"));
    now = 1500;
    expect(clocked.resolve(join(dir, "clawgate.yaml"))).toBe(join(target, "clawgate.yaml"));
  });
});

describe("RealPaths on paths the file system refuses", () => {
  it("keeps a path below a file (ENOTDIR) as written instead of failing the call", () => {
    const real = new RealPaths();
    expect(real.resolve(`${root}/srv/cg/clawgate.yaml/x`)).toBe(join(root, "srv/cg/clawgate.yaml/x"));
  });
});
