import { SlashCommandBuilder, type RESTPostAPIChatInputApplicationCommandsJSONBody } from "discord.js";

/**
 * `/clawgate pending | show | approve | deny` — one command with subcommands whose options
 * are turned back into the shared verb text (src/inbound/verbs.ts). Registered per guild with a
 * bulk overwrite, so every `serve` start leaves exactly this definition.
 */
export function clawgateCommand(): RESTPostAPIChatInputApplicationCommandsJSONBody {
  return new SlashCommandBuilder()
    .setName("clawgate")
    .setDescription("Approve or deny agent tool calls waiting for a human")
    .setDMPermission(false)
    .addSubcommand((s) => s.setName("pending").setDescription("List pending approvals"))
    .addSubcommand((s) => s.setName("show").setDescription("Show one approval").addStringOption((o) => o.setName("id").setDescription("approval id").setRequired(true).setAutocomplete(true)))
    .addSubcommand((s) =>
      s
        .setName("approve")
        .setDescription("Approve a pending call")
        .addStringOption((o) => o.setName("id").setDescription("approval id").setRequired(true).setAutocomplete(true))
        .addStringOption((o) => o.setName("reason").setDescription("why (optional)").setMaxLength(1_000))
        .addBooleanOption((o) => o.setName("always").setDescription("also save the request's always-allow rule")),
    )
    .addSubcommand((s) =>
      s
        .setName("deny")
        .setDescription("Deny a pending call; the agent sees the reason")
        .addStringOption((o) => o.setName("id").setDescription("approval id").setRequired(true).setAutocomplete(true))
        .addStringOption((o) => o.setName("reason").setDescription("why (sent back to the agent)").setRequired(true).setMaxLength(1_000)),
    )
    .toJSON();
}
