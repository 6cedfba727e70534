import type { DoctorCheck } from "../spec.ts";
import { TelegramApi, TelegramApiError, type TgUser } from "./api.ts";
import type { TelegramConfig } from "./spec.ts";


/** The bot token is accepted (getMe), and where Telegram sends updates matches telegram.updates (getWebhookInfo). */
export async function checkTelegram(cfg: TelegramConfig, publicUrl?: string): Promise<DoctorCheck[]> {
  const api = new TelegramApi(cfg.apiUrl, cfg.botToken);
  let me: TgUser;
  try {
    me = await api.call<TgUser>("getMe", {}, { timeoutMs: 5_000 });
  } catch (err) {
    if (err instanceof TelegramApiError && err.statusCode === 401) return [{ name: "telegram", status: "fail", detail: "getMe → 401 Unauthorized", fix: "check telegram.botToken (BotFather → /mybots → API Token)" }];
    return [{ name: "telegram", status: "fail", detail: `${cfg.apiUrl}: ${(err as Error).message}`, fix: "check network access to the Bot API or telegram.apiUrl" }];
  }
  const out: DoctorCheck[] = [{ name: "telegram", status: "ok", detail: `bot token accepted (@${me.username ?? me.first_name})` }];
  try {
    const info = await api.call<{ url: string; last_error_message?: string; pending_update_count: number }>("getWebhookInfo", {}, { timeoutMs: 5_000 });
    const want = cfg.webhookUrl ?? (publicUrl ? `${publicUrl.replace(/\/+$/, "")}/telegram/webhook` : "");
    if (cfg.updates === "polling" && info.url) out.push({ name: "telegram updates", status: "warn", detail: `a webhook is set (${info.url}); serve deletes it when it starts polling`, fix: "nothing, or set telegram.updates: webhook to keep it" });
    else if (cfg.updates === "webhook" && info.url !== want) out.push({ name: "telegram updates", status: "warn", detail: `Telegram sends updates to "${info.url}", not ${want || "(no URL configured)"}`, fix: "start serve (it calls setWebhook) with telegram.webhookUrl or server.publicUrl set" });
    else if (info.last_error_message) out.push({ name: "telegram updates", status: "warn", detail: `Telegram's last webhook delivery failed: ${info.last_error_message}`, fix: "check that the webhook URL reaches serve and telegram.webhookSecret matches" });
    else out.push({ name: "telegram updates", status: "ok", detail: cfg.updates === "webhook" ? `webhook ${info.url}` : "long polling (no webhook set)" });
  } catch (err) {
    out.push({ name: "telegram updates", status: "warn", detail: `getWebhookInfo failed: ${(err as Error).message}` });
  }
  return out;
}
