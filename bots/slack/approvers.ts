import type { WebClient } from "@slack/web-api";
import type { Logger } from "../../src/log.ts";

/**
 * Who may decide from Slack: listed user ids, or members of listed user groups. Group
 * membership is fetched with usergroups.users.list and cached for `ttlMs`; a failed lookup
 * refuses (fail closed) rather than trusting a stale or missing answer.
 */
export class SlackApprovers {
  private cache = new Map<string, { users: Set<string>; at: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly config: { users: string[]; userGroups: string[] },
    private readonly log: Logger,
    private readonly ttlMs = 60_000,
  ) {}

  async allowed(userId: string): Promise<boolean> {
    if (this.config.users.includes(userId)) return true;
    for (const group of this.config.userGroups) {
      if ((await this.members(group)).has(userId)) return true;
    }
    return false;
  }

  private async members(group: string): Promise<Set<string>> {
    const hit = this.cache.get(group);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.users;
    try {
      const res = await this.client.usergroups.users.list({ usergroup: group });
      const users = new Set(res.users ?? []);
      this.cache.set(group, { users, at: Date.now() });
      return users;
    } catch (err) {
      this.log.warn({ group, err: (err as Error).message }, "could not list Slack user group members; refusing its members for now");
      return new Set();
    }
  }
}
