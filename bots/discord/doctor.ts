import type { DoctorCheck } from "../spec.ts";
import type { DiscordConfig } from "./spec.ts";

/** The bot token is accepted (GET /users/@me). */
export async function checkDiscord(d: DiscordConfig): Promise<DoctorCheck> {
  const base = (d.apiUrl ?? "https://discord.com/api").replace(/\/$/, "");
  try {
    const res = await fetch(`${base}/v10/users/@me`, { headers: { authorization: `Bot ${d.botToken}` }, signal: AbortSignal.timeout(5_000) });
    return res.ok ? { name: "discord", status: "ok", detail: "bot token accepted" } : { name: "discord", status: "fail", detail: `GET /users/@me → ${res.status}`, fix: "check discord.botToken" };
  } catch (err) {
    return { name: "discord", status: "fail", detail: `${base}: ${(err as Error).message}`, fix: "check network access to Discord or discord.apiUrl" };
  }
}
