/** One tool call as the plugin sees it in before_tool_call. */
export interface ToolCall {
  toolName: string;
  params: unknown;
  agentId?: string | undefined;
  /** OpenClaw's event.derivedPaths: paths the tool will touch, when it knows them. */
  derivedPaths?: string[] | undefined;
}
