/*
 * OpenClaw's `process` tool types into a session exec started — often a shell. What it types
 * is judged as a shell line, like exec's `command`. This module turns its params into that
 * text the way OpenClaw builds the bytes it sends (bash-tools.process-send-keys):
 *   write      `data`
 *   send-keys  `literal`, then the `hex` bytes, then the `keys` tokens (Enter, C-c, `^M`, a
 *              single character, or any other string sent as it is)
 *   paste      `text` (in bracketed-paste mode unless `bracketed: false`)
 *   submit     a carriage return
 * Other actions (list, poll, log, kill, clear, remove) type nothing.
 */

export interface TypedInput {
  /** The line(s) as the shell would read them, line edits applied as far as they can be. */
  text: string;
  /** Why what runs cannot be known from this call alone; null when it can. */
  unclear: string | null;
}

const NEWLINE_KEYS = new Set(["enter", "return", "kpenter", "c-m", "c-j", "^m", "^j"]);
const TYPING_ACTIONS = new Set(["write", "send-keys", "paste", "submit"]);
const NOTHING_TYPED = new Set(["list", "poll", "log", "kill", "clear", "remove"]);

/** One `keys` token as the characters it sends (named keys that edit or move become ESC/control). */
function keyText(raw: string): string {
  const token = raw.trim();
  if (token.length === 0) return "";
  const lower = token.toLowerCase();
  if (NEWLINE_KEYS.has(lower)) return "\r";
  if (lower === "tab") return "\t";
  if (lower === "space") return " ";
  if (token.length === 2 && token.startsWith("^")) return String.fromCharCode(token.toUpperCase().charCodeAt(1) & 31);
  const mods = /^((?:[cmsCMS]-)+)(.+)$/.exec(token);
  if (mods && (mods[2] as string).length === 1) {
    const m = (mods[1] as string).toLowerCase();
    let ch = mods[2] as string;
    if (m.includes("s")) ch = ch.toUpperCase();
    if (m.includes("c")) ch = String.fromCharCode(ch.toUpperCase().charCodeAt(0) & 31);
    return m.includes("m") ? `\x1b${ch}` : ch;
  }
  if (token.length === 1) return token;
  // Named keys that move the cursor, recall history or edit (Up, BSpace, Escape, F1…).
  if (/^([cmsCMS]-)*(escape|esc|bspace|backspace|up|down|left|right|home|end|pageup|pgup|ppage|pagedown|pgdn|npage|insert|ic|delete|del|dc|btab|f\d{1,2}|kp.+)$/i.test(token)) return "\x1b[0~";
  // OpenClaw sends any other token as it is.
  return token;
}

function hexText(list: unknown): string {
  if (!Array.isArray(list)) return "";
  const bytes: number[] = [];
  for (const raw of list) {
    if (typeof raw !== "string") continue;
    const h = raw.trim().toLowerCase().replace(/^0x/, "");
    if (/^[0-9a-f]{1,2}$/.test(h)) bytes.push(Number.parseInt(h, 16));
  }
  return Buffer.from(bytes).toString("utf8");
}

/**
 * Applies what a terminal's line discipline would to typed text: Backspace/DEL remove a
 * character, Ctrl-U and Ctrl-C drop the line, Ctrl-W a word. Returns the text and whether
 * anything else edits the line (cursor keys, history, completion), which makes it unknowable.
 */
function applyEdits(raw: string, tabsAreText: boolean): { text: string; editing: boolean } {
  let out = "";
  let editing = false;
  const s = raw.replace(/\r\n?/g, "\n");
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const code = ch.charCodeAt(0);
    if (ch === "\n" || (ch === "\t" && tabsAreText) || (code >= 0x20 && code !== 0x7f)) {
      out += ch;
      continue;
    }
    const lineStart = out.lastIndexOf("\n") + 1;
    if (ch === "\x7f" || ch === "\b") out = out.length > lineStart ? out.slice(0, -1) : out;
    else if (ch === "\x15" || ch === "\x03") out = out.slice(0, lineStart);
    else if (ch === "\x17") out = out.slice(0, lineStart) + out.slice(lineStart).replace(/\S+\s*$/, "");
    else {
      // ESC sequences, Tab completion, Ctrl-A/E/K/R/Y…: what the shell then runs is not what was sent.
      editing = true;
      // A completed Tab still separates words: rules see `rm -rf /` in `rm<Tab>-rf /`.
      if (ch === "\t") out += " ";
      if (ch === "\x1b") {
        const seq = /^\x1b(\[[0-9;?]*[ -/]*[@-~]|O.|.)?/.exec(s.slice(i));
        i += (seq?.[0].length ?? 1) - 1;
      }
    }
  }
  return { text: out, editing };
}

/** What a call of OpenClaw's process tool types; null when it types nothing. */
export function typedInput(params: Record<string, unknown>): TypedInput | null {
  const action = typeof params["action"] === "string" ? params["action"] : "";
  if (NOTHING_TYPED.has(action)) return null;
  const str = (k: string): string => (typeof params[k] === "string" ? (params[k] as string) : "");
  let raw: string;
  let tabsAreText = false;
  if (action === "write") raw = str("data");
  else if (action === "paste") {
    raw = str("text");
    tabsAreText = params["bracketed"] !== false;
  } else if (action === "send-keys") raw = str("literal") + hexText(params["hex"]) + (Array.isArray(params["keys"]) ? params["keys"].map((k) => (typeof k === "string" ? keyText(k) : "")).join("") : "");
  else if (action === "submit") raw = "\r";
  else {
    // An action this version does not know: judge every field that could carry input.
    raw = [str("data"), str("text"), str("literal"), hexText(params["hex"]), Array.isArray(params["keys"]) ? params["keys"].map((k) => (typeof k === "string" ? keyText(k) : "")).join("") : ""].filter((x) => x.length > 0).join("\n");
    if (raw.length === 0) return null;
  }
  if (!TYPING_ACTIONS.has(action) && raw.length === 0) return null;
  const { text, editing } = applyEdits(raw, tabsAreText);
  // Control keys alone (C-c, C-d, Escape) with nothing printable and no Enter run nothing new.
  if (text.trim().length === 0 && !text.includes("\n")) return editing ? null : text.length === 0 ? null : { text, unclear: null };
  let unclear: string | null = null;
  if (editing) unclear = "it types keys that edit the line or recall history, so what runs is not what was sent";
  else if (!text.endsWith("\n") || /(^|[^\\])(\\\\)*\\\n$/.test(text)) unclear = "it types a partial line, which runs with whatever is typed next";
  return { text, unclear };
}
