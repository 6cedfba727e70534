// Tests that run the `clawgate` binary run the built dist/: build it first when a source
// changed (a no-op otherwise), so `npx vitest run test/x` never tests stale JavaScript.
import { ensureBuilt } from "../scripts/build.mjs";

export default function setup(): void {
  ensureBuilt();
}
