import { createHash } from "node:crypto";
import { canonicalJson } from "../audit/canonicalJson.ts";

export { canonicalJson };

/** sha256 of the canonical params, so equal params always hash equally whatever their key order. */
export function paramsHash(params: unknown): string {
  return createHash("sha256").update(canonicalJson(params)).digest("hex");
}
