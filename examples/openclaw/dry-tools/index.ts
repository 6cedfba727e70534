// An example OpenClaw plugin with one harmless tool, `dry_exec`, so a newcomer can watch
// clawgate gate a shell-like call over POST /tools/invoke without a model. OpenClaw never
// exposes its built-in `exec` over HTTP; this stands in for it and executes nothing: it
// returns the command it would have run. No imports, so it loads from any folder.
export default {
  id: "clawgate-dry-tools",
  name: "clawgate example: dry tools",
  description: "dry_exec: pretends to run a shell command (executes nothing).",
  register(api: { registerTool(tool: Record<string, unknown>): void }) {
    api.registerTool({
      name: "dry_exec",
      label: "Dry exec",
      description: "Pretends to run a shell command and returns the command it would have run. Executes nothing.",
      parameters: {
        type: "object",
        additionalProperties: false,
        required: ["command"],
        properties: { command: { type: "string", description: "Shell command (not executed)." } },
      },
      async execute(_toolCallId: string, params: { command: string }) {
        const details = { wouldRun: params.command, executed: false };
        return { content: [{ type: "text", text: JSON.stringify(details) }], details };
      },
    });
  },
};
