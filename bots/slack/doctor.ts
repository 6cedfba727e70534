import type { DoctorCheck as Check } from "../spec.ts";
import { isSlackUserId as isUserId, type SlackConfig } from "./spec.ts";

type SlackAnswer = { ok?: boolean; error?: string; needed?: string } & Record<string, unknown>;

const SCOPE_FIX = "add the channels:read, groups:read and users:read scopes to the Slack app (docs/slack.md) and reinstall it";

/** A Web API call as Slack documents it: form-encoded POST, bot token as bearer. */
async function call(cfg: SlackConfig, method: string, args: Record<string, string> = {}): Promise<SlackAnswer> {
  const base = (cfg.apiUrl ?? "https://slack.com/api/").replace(/\/?$/, "/");
  const res = await fetch(`${base}${method}`, {
    method: "POST",
    headers: { authorization: `Bearer ${cfg.botToken}`, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(args).toString(),
    signal: AbortSignal.timeout(5_000),
  });
  if (res.status === 429) return { ok: false, error: `ratelimited (retry after ${res.headers.get("retry-after") ?? "?"} s)` };
  if (!res.ok) return { ok: false, error: `HTTP ${res.status}` };
  return (await res.json()) as SlackAnswer;
}

async function checkUser(cfg: SlackConfig, id: string): Promise<{ id: string; problem?: string; warn?: string }> {
  const r = await call(cfg, "users.info", { user: id });
  if (!r.ok) return r.error === "missing_scope" ? { id, warn: "missing_scope" } : { id, problem: r.error === "user_not_found" ? "does not exist in this workspace" : (r.error ?? "?") };
  const user = r.user as { deleted?: boolean; is_bot?: boolean; name?: string } | undefined;
  if (user?.deleted) return { id, problem: `is deactivated (${user.name ?? id})` };
  if (user?.is_bot) return { id, warn: `is a bot (${user.name ?? id}), not a person` };
  return { id };
}

/** Is the bot in `slack.channel` (conversations.info `is_member`)? A user id means a DM: the user must exist. */
async function checkChannel(cfg: SlackConfig): Promise<Check> {
  const name = "slack channel";
  if (isUserId(cfg.channel)) {
    const u = await checkUser(cfg, cfg.channel);
    if (u.problem) return { name, status: "fail", detail: `slack.channel is a user id for DMs, but ${cfg.channel} ${u.problem}`, fix: "set slack.channel to an existing user or channel id" };
    if (u.warn === "missing_scope") return { name, status: "warn", detail: `cannot look up user ${cfg.channel}: missing_scope`, fix: SCOPE_FIX };
    return { name, status: "ok", detail: `requests go to a DM with ${cfg.channel}` };
  }
  const r = await call(cfg, "conversations.info", { channel: cfg.channel });
  if (!r.ok) {
    if (r.error === "missing_scope") return { name, status: "warn", detail: `cannot check membership of ${cfg.channel}: missing_scope${r.needed ? ` (needs ${r.needed})` : ""}`, fix: SCOPE_FIX };
    if (r.error === "channel_not_found")
      return { name, status: "fail", detail: `${cfg.channel} not found (or private without the bot in it)`, fix: "check slack.channel (the channel id, e.g. C0123ABCD, not its name); for a private channel, /invite the app first" };
    return { name, status: "fail", detail: `conversations.info ${cfg.channel}: ${r.error ?? "?"}`, fix: "check slack.channel and the bot token" };
  }
  const c = r.channel as { name?: string; is_member?: boolean; is_archived?: boolean; is_im?: boolean };
  const label = c.name ? `#${c.name} (${cfg.channel})` : cfg.channel;
  if (c.is_archived) return { name, status: "fail", detail: `${label} is archived`, fix: "unarchive it or choose another slack.channel" };
  if (!c.is_im && !c.is_member) return { name, status: "fail", detail: `the bot is not a member of ${label}: posting there fails with not_in_channel`, fix: `in Slack, run /invite @<your app> in ${c.name ? `#${c.name}` : cfg.channel}` };
  return { name, status: "ok", detail: c.is_im ? `${cfg.channel} is a DM` : `the bot is a member of ${label}` };
}

/** Every configured approver id exists (users.info) and every user group resolves (usergroups.users.list). */
async function checkApprovers(cfg: SlackConfig): Promise<Check> {
  const name = "slack approvers";
  const { users, userGroups } = cfg.approvers;
  if (users.length === 0 && userGroups.length === 0) return { name, status: "warn", detail: "slack.approvers is empty: nobody can decide from Slack", fix: "list user ids in slack.approvers.users or groups in slack.approvers.userGroups" };
  const results = await Promise.all(users.map((id) => checkUser(cfg, id)));
  const groups = await Promise.all(
    userGroups.map(async (id) => {
      const r = await call(cfg, "usergroups.users.list", { usergroup: id });
      return { id, error: r.ok ? undefined : r.error };
    }),
  );
  const problems = [
    ...results.filter((u) => u.problem).map((u) => `user ${u.id} ${u.problem}`),
    ...groups.filter((g) => g.error && g.error !== "missing_scope").map((g) => `user group ${g.id}: ${g.error === "no_such_subteam" ? "does not exist" : g.error}`),
  ];
  if (problems.length) return { name, status: "fail", detail: problems.join("; "), fix: "fix the ids in slack.approvers (Slack: profile → ⋮ → Copy member ID)" };
  const scopeGaps = [...results.filter((u) => u.warn === "missing_scope").map((u) => u.id), ...groups.filter((g) => g.error === "missing_scope").map((g) => g.id)];
  if (scopeGaps.length) return { name, status: "warn", detail: `cannot look up ${scopeGaps.join(", ")}: missing_scope`, fix: SCOPE_FIX };
  const warns = results.filter((u) => u.warn).map((u) => `user ${u.id} ${u.warn}`);
  if (warns.length) return { name, status: "warn", detail: warns.join("; ") };
  return { name, status: "ok", detail: `${users.length} user(s) and ${userGroups.length} group(s) exist` };
}

/** auth.test, then channel membership and approver ids (skipped when the token is refused). */
export async function checkSlack(cfg: SlackConfig): Promise<Check[]> {
  try {
    const auth = await call(cfg, "auth.test");
    if (!auth.ok) return [{ name: "slack", status: "fail", detail: `auth.test: ${auth.error ?? "?"}`, fix: "check slack.botToken (xoxb-…)" }];
    const first: Check = { name: "slack", status: "ok", detail: `auth.test ok (team ${String(auth.team ?? "?")}, bot ${String(auth.user ?? "?")})` };
    return [first, await checkChannel(cfg), await checkApprovers(cfg)];
  } catch (err) {
    return [{ name: "slack", status: "fail", detail: `${cfg.apiUrl ?? "https://slack.com/api/"}: ${(err as Error).message}`, fix: "check network access to Slack or slack.apiUrl" }];
  }
}
