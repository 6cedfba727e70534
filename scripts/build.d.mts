/** True when dist/ is missing or older than a source file, tsconfig or package.json. */
export function isStale(): boolean;
/** Compile to dist/ with tsconfig.build.json and bundle the CLI into dist/cli (throws when tsc fails). */
export function build(): void;
/** build() when isStale(). */
export function ensureBuilt(): void;
