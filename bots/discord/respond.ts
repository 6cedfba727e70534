import { InteractionResponseType, InteractionType, MessageFlags, Routes, type APIInteraction, type APIInteractionResponse, type REST } from "discord.js";
import type { Logger } from "../../src/log.ts";

/** Discord drops an interaction not answered within 3 s; past this we defer and follow up. */
const ANSWER_DEADLINE_MS = 2_500;

/**
 * Answers `interaction` with `work`'s response if it is ready within the deadline; otherwise
 * sends a deferral first (type 5 for commands, type 6 for clicks and forms) and delivers the
 * result afterwards through the interaction webhook. `send` is how the first answer leaves:
 * the HTTP response body, or the callback endpoint on the Gateway path.
 */
export async function answer(opts: {
  interaction: APIInteraction;
  work: Promise<APIInteractionResponse>;
  send: (response: APIInteractionResponse) => Promise<void>;
  rest: REST;
  applicationId: string;
  log: Logger;
  deadlineMs?: number;
}): Promise<void> {
  const { interaction: i, rest, log } = opts;
  const work = opts.work.catch((err: unknown): APIInteractionResponse => {
    log.error({ err: (err as Error).message, interaction: i.type }, "Discord interaction failed");
    return { type: InteractionResponseType.ChannelMessageWithSource, data: { content: "clawgate error: could not handle this; see the serve log", flags: MessageFlags.Ephemeral } };
  });
  // Autocomplete and PING cannot be deferred.
  if (i.type === InteractionType.Ping || i.type === InteractionType.ApplicationCommandAutocomplete) return opts.send(await work);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), opts.deadlineMs ?? ANSWER_DEADLINE_MS)));
  const first = await Promise.race([work, late]);
  clearTimeout(timer);
  if (first !== "late") return opts.send(first);

  const isCommand = i.type === InteractionType.ApplicationCommand;
  await opts.send(isCommand ? { type: InteractionResponseType.DeferredChannelMessageWithSource, data: { flags: MessageFlags.Ephemeral } } : { type: InteractionResponseType.DeferredMessageUpdate });
  const result = await work;
  const original = Routes.webhookMessage(opts.applicationId, i.token, "@original");
  const followUp = Routes.webhook(opts.applicationId, i.token);
  try {
    if (result.type === InteractionResponseType.DeferredMessageUpdate) return;
    if (result.type === InteractionResponseType.ChannelMessageWithSource) {
      await (isCommand ? rest.patch(original, { body: result.data, auth: false }) : rest.post(followUp, { body: result.data, auth: false }));
    } else if (result.type === InteractionResponseType.UpdateMessage) {
      await rest.patch(original, { body: result.data, auth: false });
    } else if (result.type === InteractionResponseType.Modal) {
      // A form can only be the first answer; ask for the click again (it is fast the second time).
      await rest.post(followUp, { body: { content: "Discord needed an answer sooner; click Deny again to give a reason.", flags: MessageFlags.Ephemeral }, auth: false });
    }
  } catch (err) {
    log.warn({ err: (err as Error).message }, "could not deliver a deferred Discord answer");
  }
}
