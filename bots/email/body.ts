import { simpleParser, type ParsedMail } from "mailparser";

/** Word's HTML (Outlook's editor): every line typed is a <p class=MsoNormal> with no margin. */
const WORD_HTML = /<p\b[^>]*\bclass=["']?Mso/i;

/**
 * The text a reply's answer is read from: its text/plain part as mailparser decoded it (charset,
 * quoted-printable, base64, format=flowed), or, for a reply with HTML only, the HTML rendered
 * as text.
 *
 * mailparser renders HTML as text only when the HTML is the whole message, not an HTML-only
 * multipart/alternative, and it renders each of Word's one-line paragraphs as a paragraph of its
 * own, which would end a deny reason at its first line. So HTML is rendered here: Word's
 * paragraphs become the lines they are, then mailparser's own renderer (html-to-text) runs on
 * it as a one-part message.
 */
export async function replyText(mail: ParsedMail): Promise<string> {
  const html = typeof mail.html === "string" ? mail.html : "";
  const word = WORD_HTML.test(html);
  const rootIsHtml = (mail.headers.get("content-type") as { value?: string } | undefined)?.value === "text/html";
  if (!html || (mail.text?.trim() && !(rootIsHtml && word))) return mail.text ?? "";
  const lines = word ? html.replace(/<p\b/gi, "<div").replace(/<\/p\s*>/gi, "</div>") : html;
  const rendered = await simpleParser(Buffer.from(`Content-Type: text/html; charset=utf-8\r\n\r\n${lines}`, "utf8"));
  return rendered.text ?? "";
}
