import { randomBytes } from "node:crypto";

// Crockford-style alphabet without look-alikes, so ids survive being read aloud or retyped.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** "ap_" + 12 random base32 characters (60 bits): short enough to type, too many to guess. */
export function newApprovalId(): string {
  const bytes = randomBytes(12);
  let out = "ap_";
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

export const APPROVAL_ID = /^ap_[0-9a-z]{12}$/;
