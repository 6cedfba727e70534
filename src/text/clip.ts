/** How much of an approval's params the human surfaces print before clipping (`show`, the log channel). */
export const PARAMS_PREVIEW_CHARS = 2_000;

/**
 * The first `max` characters of `text` (never splitting a surrogate pair), followed by
 * "… N more bytes, <hint>" when anything was cut. N counts UTF-8 bytes, as stored.
 */
export function clipText(text: string, max: number, hint: string): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  const rest = Buffer.byteLength(text.slice(end), "utf8");
  return `${text.slice(0, end)}… ${rest} more bytes, ${hint}`;
}
