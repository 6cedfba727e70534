// `node --import tsx bench/growth.ts`: the rules growth table alone.
import { growth } from "./policy-compare.ts";

console.table(growth());
