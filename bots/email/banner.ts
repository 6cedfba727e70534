/**
 * Notices a mail system puts above the sender's words — "[EXTERNAL]", "CAUTION: This email
 * originated from outside of the organization…", "You don't often get email from…", Proofpoint's
 * "This Message Is From an External Sender" — are not the approver's answer: the answer is read
 * below them.
 *
 * Organisations word their banners as they like, so they are recognised by what every one of
 * them says, sentence by sentence: where the mail came from (outside, external), what not to do
 * (click links, open attachments), that the sender is new, how to report it. A block is skipped
 * only if every sentence in it is such a notice and none mentions approving or denying; the
 * approver's own words never are, so a block that mixes them is not skipped, and the reply
 * decides nothing (it is answered with the three forms). An unrecognised banner fails the same
 * safe way. Whatever is skipped, the answer must still be exactly one of the three forms.
 */

/** A line that is only a tag, decorated or not: "[EXTERNAL]", "*** EXTERNAL EMAIL ***", "[EXTERNE]", Proofpoint's markers. */
const TAG =
  /^(?:(?:caution|warning|attention|notice|achtung|atención|precaución|attenzione|avertissement)\s+)?(?:external|ext|extern|externe|externo|externa|esterno|esterna|externer|externes)(?:\s+(?:e-?mail|mail|message|sender|courriel|correo|absender|nachricht|mittente|remitente|expéditeur|afzender))?$|^(?:e-?mail|mail|message|courriel|correo|nachricht)\s+(?:external|externe|externo|extern|esterno)$|^zjqcmqryfpfptbanner(?:start|end)$/i;
/** Decoration around tags and banners: "[", "***", "====", "|", dashes not inside a word. */
const DECORATION = /[\s[\](){}<>*#=_~!:|.]+|(?:^|\s)-+|-+(?=\s|$)/g;
const RULE_LINE = /^[\s*#=_~\-]{3,}$/;

/** Where the mail came from: a place word and a mail word in one sentence. */
const PLACE = /\b(?:extern(?:al|e|o|a|er|en|es)?|externally|outside|außerhalb|extérieur|fuera|fora|esterno|esterna|buiten)\b/i;
const MAILISH =
  /\b(?:e-?mails?|mail|messages?|senders?|source|organi[sz]ations?|company|network|domain|absender|nachricht|courriel|expéditeur|organisation|correo|remitente|organización|organização|remetente|mittente|afzender|organisatie)\b/i;
/** What not to do: links or attachments, and a caution. */
const ACTION = /\b(?:links?|liens?|enlaces?|vínculos?|collegamenti|anhänge|attachments?|pièces jointes|adjuntos?|allegati|bijlagen)\b/i;
const CAUTION = /\b(?:do not|don'?t|never|careful|caution|cautious|unless|keine|nicht|ne|n'|no|non|niet|à moins|a menos|wenn sie)\b/i;
/** Microsoft's first-contact tip and report links, in the languages it ships them in. */
const OTHER = [
  /\byou don'?t often get (?:e-?mail|messages?) from\b/i,
  /\blearn why this is important\b/i,
  /\bsie erhalten nicht oft e-?mails? von\b/i,
  /\bvous n['’]obtenez pas souvent d['’]e-?mail\b/i,
  /\bno suele recibir correo electrónico de\b/i,
  /\bdécouvrez pourquoi ceci est important\b/i,
  /\breport (?:suspicious|phish|spam|this (?:e-?mail|message))/i,
];
const NEGATION = /\b(?:not|no|never|nicht|nein|kein|pas|non|nunca)\b|n['’]t\b/i;
/** Nothing a gateway writes mentions a decision: a sentence that does is the approver's. */
const DECISION_WORDS = /approv|\bden(?:y|ied)\b|\ballow|\breject/i;
/** Link targets html-to-text and plain-text clients print beside the words. */
const LINK = /\[(?:https?|mailto):[^\]]*\]|<(?:https?|mailto):[^>]*>|\bhttps?:\/\/\S+/gi;
/** Where the approver's answer starts, so a banner block ends above it even without a blank line. */
const ANSWER_START = /^\W*(?:approve|deny)\b/i;

const clean = (line: string) => line.replace(/[\u200b\u00a0\t]/g, " ").trim();

function isTag(line: string): boolean {
  return TAG.test(line.replace(LINK, " ").replace(DECORATION, " ").trim());
}

function isNoticeSentence(s: string): boolean {
  if (DECISION_WORDS.test(s)) return false;
  const words = s.replace(DECORATION, " ").trim();
  if (!words || TAG.test(words)) return true;
  // Where a mail came from is stated, never negated: "… from outside — please don't" is a person's.
  if (PLACE.test(s) && MAILISH.test(s) && !NEGATION.test(s)) return true;
  if (ACTION.test(s) && CAUTION.test(s)) return true;
  return OTHER.some((re) => re.test(s));
}

/** A block of lines every sentence of which is a notice. */
function isNotice(lines: readonly string[]): boolean {
  const text = lines.join(" ").replace(LINK, " ");
  if (DECISION_WORDS.test(text)) return false;
  const sentences = text.split(/(?<=[.!?])\s+/).filter((s) => s.trim() !== "");
  return sentences.length > 0 && sentences.every(isNoticeSentence);
}

/** A tag a gateway put in front of the first line itself: "[EXTERNAL] approve". */
const TAG_PREFIX = /^\s*(?:\[\s*(?:external|ext|externe|externo|extern|esterno)(?:\s+(?:e-?mail|sender|message))?\s*\]|\*+\s*external(?:\s+e-?mail)?\s*\*+)\s*/i;

/**
 * The lines below any banner at the top of `lines` (a reply's text, quotes and all), with a tag
 * in front of the first of them removed; `lines` itself when the top is not a banner.
 */
export function belowBanner(lines: readonly string[]): string[] {
  let i = 0;
  /** Just past the last banner line: the blank lines below it stay, as quote detection reads them. */
  let end = 0;
  for (;;) {
    while (i < lines.length && clean(lines[i] as string) === "") i++;
    if (i >= lines.length) break;
    const line = clean(lines[i] as string);
    if (RULE_LINE.test(line)) {
      // A rule frames a banner: it belongs to one only once a banner was seen above it.
      i++;
      if (end > 0) end = i;
      continue;
    }
    if (isTag(line)) {
      end = ++i;
      continue;
    }
    let j = i;
    while (j < lines.length) {
      const l = clean(lines[j] as string);
      if (l === "" || ANSWER_START.test(l) || RULE_LINE.test(l) || isTag(l)) break;
      j++;
    }
    if (j === i || !isNotice(lines.slice(i, j).map(clean))) break;
    end = i = j;
  }
  const rest = lines.slice(end);
  // Only the first line of the approver's words can carry a tag a gateway prefixed.
  const first = rest.findIndex((l) => clean(l) !== "");
  if (first >= 0) rest[first] = (rest[first] as string).replace(TAG_PREFIX, "");
  return rest;
}
