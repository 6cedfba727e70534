import { connect } from "node:net";
import type { DoctorCheck } from "../spec.ts";
import type { EmailConfig } from "./spec.ts";

async function tcpGreeting(host: string, port: number, ms = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
    sock.once("data", (d) => {
      clearTimeout(timer);
      sock.end();
      resolve(d.toString("utf8").split(/\r?\n/)[0] ?? "");
    });
    sock.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function checkMail(name: string, host: string, port: number, expect: RegExp): Promise<DoctorCheck> {
  try {
    const greeting = await tcpGreeting(host, port);
    return expect.test(greeting) ? { name, status: "ok", detail: `${host}:${port} answered: ${greeting}` } : { name, status: "warn", detail: `${host}:${port} answered unexpectedly: ${greeting}` };
  } catch (err) {
    return { name, status: "fail", detail: `${host}:${port}: ${(err as Error).message}`, fix: `check ${name} host/port` };
  }
}

/** The SMTP (and IMAP) servers greet, and whether replies must pass DMARC. */
export async function checkEmail(email: EmailConfig): Promise<DoctorCheck[]> {
  const checks = [await checkMail("smtp", email.smtp.host, email.smtp.port, /^220/)];
  const imap = email.inbound.imap;
  if (imap) checks.push(await checkMail("imap", imap.host, imap.port, /^\* OK/));
  checks.push(
    email.inbound.requireAuth === false
      ? { name: "email replies", status: "warn", detail: "email.inbound.requireAuth is false: replies decide without DMARC, on every inbound path (SMTP listener, IMAP, webhook)", fix: "remove it (DMARC is required by default) unless every inbound path itself proves the sender" }
      : { name: "email replies", status: "ok", detail: "replies must pass DMARC on every inbound path (SMTP listener, IMAP, webhook)" },
  );
  return checks;
}
