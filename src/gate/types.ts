/** The slice of OpenClaw's before_tool_call / after_tool_call contract the gate uses (see OPENCLAW.md). */
export interface BeforeToolCallEvent {
  toolName: string;
  params: unknown;
  toolCallId?: string;
  runId?: string;
  derivedPaths?: string[];
}

export interface HookContext {
  agentId?: string;
  sessionKey?: string;
  sessionId?: string;
  runId?: string;
  abortSignal?: AbortSignal;
  channelId?: string;
  requester?: { channel?: string; accountId?: string; senderId?: string; senderIsOwner?: boolean; roleIds?: string[] };
}

export type BeforeToolCallResult = { block: true; blockReason: string } | undefined;

export interface AfterToolCallEvent {
  toolName: string;
  params: unknown;
  toolCallId?: string;
  result?: unknown;
  error?: unknown;
  durationMs?: number;
}
