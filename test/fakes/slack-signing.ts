import { createHmac, randomBytes } from "node:crypto";

/**
 * Pure helpers to build requests exactly as Slack sends them to an app's Request URL
 * (HTTP mode): signed headers, `payload=<urlencoded JSON>` interactivity bodies, and
 * realistic `block_actions` / `view_submission` payloads. No clock or randomness is hidden
 * in the signature: pass `timestampSec` to sign "in the past/future".
 *
 * Field names follow Slack's interaction-payload reference and Bolt 5's `BlockAction` /
 * `ViewSubmitAction` types.
 */

export const FAKE_TEAM_ID = "T0FAKE";
export const FAKE_TEAM_DOMAIN = "fake-team";
export const FAKE_APP_ID = "A0FAKE";
export const FAKE_BOT_ID = "B0FAKE";
export const FAKE_BOT_USER_ID = "U0FAKEBOT";
/** The deprecated verification token Slack still puts in every payload. */
export const FAKE_VERIFICATION_TOKEN = "fakeVerificationToken0";

export type SlackSignedHeaders = {
  "x-slack-request-timestamp": string;
  "x-slack-signature": string;
  "content-type": string;
};

/**
 * Slack's request signing: `v0=` + hex HMAC-SHA256(signingSecret, `v0:{ts}:{raw body}`).
 * The content type is `application/json` for Events API bodies (JSON objects) and
 * `application/x-www-form-urlencoded` otherwise (interactivity, slash commands).
 */
export function signSlackRequest(signingSecret: string, rawBody: string, timestampSec: number = Math.floor(Date.now() / 1000)): SlackSignedHeaders {
  const ts = String(timestampSec);
  const sig = createHmac("sha256", signingSecret).update(`v0:${ts}:${rawBody}`).digest("hex");
  return {
    "x-slack-request-timestamp": ts,
    "x-slack-signature": `v0=${sig}`,
    "content-type": rawBody.trimStart().startsWith("{") ? "application/json" : "application/x-www-form-urlencoded",
  };
}

/** `payload=<urlencoded JSON>`, the body of every interactivity request (block_actions, view_submission…). */
export function interactionBody(payload: object): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Slack-looking ids: trigger ids are `<digits>.<digits>.<hex>`, action_ts are `<sec>.<micro>`. */
export function fakeTriggerId(): string {
  return `${Date.now()}.${1000 + Math.floor(Math.random() * 9000)}.${randomBytes(16).toString("hex")}`;
}

function nowTs(): string {
  const ms = Date.now();
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000).padStart(6, "0")}`;
}

export interface BlockActionOptions {
  userId: string;
  userName?: string;
  actionId: string;
  value: string;
  /** block_id of the actions block holding the button; Slack always sends one (it generates ids for blocks without). */
  blockId?: string;
  /** Button label, sent back as `actions[0].text`. Defaults to the action id. */
  buttonText?: string;
  messageTs?: string;
  channelId?: string;
  channelName?: string;
  triggerId?: string;
  responseUrl: string;
  teamId?: string;
  /** The message as it currently renders (Slack sends the whole message, blocks included). */
  messageText?: string;
  messageBlocks?: unknown[];
  /** Message thread parent, when the button sits on a threaded reply. */
  threadTs?: string;
}

/**
 * A `block_actions` payload for a button click on a message the app posted, shaped like
 * Slack's: user {id, username, name, team_id}, container {type:"message", message_ts,
 * channel_id, is_ephemeral:false}, the full message, state, response_url and actions[].
 */
export function blockActionPayload(opts: BlockActionOptions): Record<string, unknown> {
  const teamId = opts.teamId ?? FAKE_TEAM_ID;
  const channelId = opts.channelId ?? "C0FAKE";
  const messageTs = opts.messageTs ?? "1700000000.000100";
  const userName = opts.userName ?? opts.userId.toLowerCase();
  const message: Record<string, unknown> = {
    user: FAKE_BOT_USER_ID,
    type: "message",
    ts: messageTs,
    bot_id: FAKE_BOT_ID,
    app_id: FAKE_APP_ID,
    text: opts.messageText ?? "",
    team: teamId,
    blocks: opts.messageBlocks ?? [],
  };
  if (opts.threadTs) message.thread_ts = opts.threadTs;
  return {
    type: "block_actions",
    user: { id: opts.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: FAKE_APP_ID,
    token: FAKE_VERIFICATION_TOKEN,
    container: { type: "message", message_ts: messageTs, channel_id: channelId, is_ephemeral: false, ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}) },
    trigger_id: opts.triggerId ?? fakeTriggerId(),
    team: { id: teamId, domain: FAKE_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: opts.channelName ?? "approvals" },
    message,
    state: { values: {} },
    response_url: opts.responseUrl,
    actions: [
      {
        action_id: opts.actionId,
        block_id: opts.blockId ?? "actions",
        text: { type: "plain_text", text: opts.buttonText ?? opts.actionId, emoji: true },
        value: opts.value,
        type: "button",
        action_ts: nowTs(),
      },
    ],
  };
}

interface ButtonLike {
  type?: unknown;
  action_id?: unknown;
  value?: unknown;
  text?: { text?: unknown };
  style?: unknown;
}

/**
 * The `block_actions` payload Slack would send when `opts.userId` clicks the button whose
 * `action_id` is `actionId` on `message` (e.g. a `FakeSlack.messages` entry): value, block_id,
 * label and style are read from the rendered blocks, so a test cannot click a button that
 * is not (or no longer) there. Throws if the button is absent.
 */
export function clickButton(
  message: { channel: string; ts: string; text: string; blocks: unknown[]; thread_ts?: string },
  actionId: string,
  opts: { userId: string; userName?: string; responseUrl: string; triggerId?: string; teamId?: string },
): Record<string, unknown> {
  for (const block of message.blocks as Array<{ type?: unknown; block_id?: unknown; elements?: unknown; accessory?: unknown }>) {
    const candidates: ButtonLike[] = [];
    if (Array.isArray(block.elements)) candidates.push(...(block.elements as ButtonLike[]));
    if (block.accessory && typeof block.accessory === "object") candidates.push(block.accessory as ButtonLike);
    const button = candidates.find((el) => el.type === "button" && el.action_id === actionId);
    if (!button) continue;
    const payload = blockActionPayload({
      ...opts,
      actionId,
      value: typeof button.value === "string" ? button.value : "",
      blockId: typeof block.block_id === "string" ? block.block_id : "actions",
      buttonText: typeof button.text?.text === "string" ? button.text.text : actionId,
      messageTs: message.ts,
      channelId: message.channel,
      messageText: message.text,
      messageBlocks: message.blocks,
      ...(message.thread_ts ? { threadTs: message.thread_ts } : {}),
    });
    const action = (payload.actions as Array<Record<string, unknown>>)[0];
    if (action && typeof button.style === "string") action.style = button.style;
    return payload;
  }
  const present = message.blocks
    .flatMap((b) => {
      const blk = b as { elements?: unknown; accessory?: unknown };
      const els = [...(Array.isArray(blk.elements) ? (blk.elements as ButtonLike[]) : []), ...(blk.accessory ? [blk.accessory as ButtonLike] : [])];
      return els.filter((e) => e.type === "button").map((e) => String(e.action_id));
    })
    .join(", ");
  throw new Error(`no button with action_id "${actionId}" on message ${message.channel}:${message.ts} (buttons: ${present || "none"})`);
}

export interface ViewSubmissionOptions {
  userId: string;
  userName?: string;
  callbackId: string;
  privateMetadata: string;
  values: Record<string, Record<string, { type: "plain_text_input"; value: string }>>;
  viewId?: string;
  teamId?: string;
  /** The blocks of the submitted modal (Slack echoes the whole view). */
  blocks?: unknown[];
  title?: string;
}

/** A `view_submission` payload (modal submitted), with the input values in `view.state.values`. */
export function viewSubmissionPayload(opts: ViewSubmissionOptions): Record<string, unknown> {
  const teamId = opts.teamId ?? FAKE_TEAM_ID;
  const viewId = opts.viewId ?? "V0FAKE00001";
  const userName = opts.userName ?? opts.userId.toLowerCase();
  return {
    type: "view_submission",
    team: { id: teamId, domain: FAKE_TEAM_DOMAIN },
    user: { id: opts.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: FAKE_APP_ID,
    token: FAKE_VERIFICATION_TOKEN,
    trigger_id: fakeTriggerId(),
    enterprise: null,
    is_enterprise_install: false,
    view: {
      id: viewId,
      team_id: teamId,
      type: "modal",
      blocks: opts.blocks ?? [],
      private_metadata: opts.privateMetadata,
      callback_id: opts.callbackId,
      state: { values: opts.values },
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString("hex")}`,
      title: { type: "plain_text", text: opts.title ?? "Approval", emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: { type: "plain_text", text: "Cancel", emoji: true },
      submit: { type: "plain_text", text: "Submit", emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: FAKE_APP_ID,
      external_id: "",
      app_installed_team_id: teamId,
      bot_id: FAKE_BOT_ID,
    },
    response_urls: [],
  };
}
