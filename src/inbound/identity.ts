import type { ClawgateConfig } from "../config/schema.ts";
import type { RouteApprovers } from "../approvals/facts.ts";
import type { Requester } from "../approvals/record.ts";
import { routeApproverIds, type RouteApproversConfig } from "../oncall/chain-schema.ts";
import { normalizeChannelId, personChannels, personId } from "../../bots/specs.ts";

/** Who is acting, as their channel knows them. */
export interface Identity {
  /** A channel's name (bots/specs.ts), or cli, api, openclaw */
  channel: string;
  /** The channel's id for them: a Slack user id, an email address, "telegram:42" for OpenClaw, "alice@host" for the CLI. */
  id: string;
  /** Channel roles the platform vouched for (Discord member roles). */
  roles?: string[];
}

/** "slack:U0ALICE" — how an identity appears in actors, notified sets and the audit log. */
export function identityKey(i: Identity): string {
  return `${i.channel}:${i.id}`;
}

/**
 * Channel identities → people (config `people`). A person matches an identity when the
 * person's field for that channel holds the id (people.alice.<channel>, e.g. people.alice.slack:
 * U0ALICE; compared as the channel's spec normalizes ids), or when
 * `people.alice.ids` lists "channel:id".
 */
export class People {
  private readonly byKey = new Map<string, string>();
  private readonly ids: Set<string>;

  constructor(config: Pick<ClawgateConfig, "people">) {
    this.ids = new Set(Object.keys(config.people));
    for (const [person, p] of Object.entries(config.people)) {
      for (const channel of personChannels()) {
        const id = personId(p, channel);
        if (id) this.byKey.set(`${channel}:${id}`, person);
      }
      for (const id of p.ids) this.byKey.set(id, person);
    }
  }

  personOf(i: Identity): string | null {
    // A person API token is issued for a person id (`clawgate token create NAME --person alice`).
    if (i.channel === "api" && this.ids.has(i.id)) return i.id;
    return this.byKey.get(`${i.channel}:${normalizeChannelId(i.channel, i.id)}`) ?? null;
  }

  /** Every identity key that is `person`'s ("slack:U0ALICE", "telegram:42", "api:alice"). */
  identitiesOf(person: string): string[] {
    if (!this.ids.has(person)) return [];
    return [`api:${person}`, ...[...this.byKey].filter(([, p]) => p === person).map(([key]) => key)];
  }

  /** A route's approvers as identities: the ids and channel users it names, and every identity of its people. */
  routeApprovers(route: RouteApproversConfig): RouteApprovers {
    return { people: route.people, ids: [...new Set([...routeApproverIds(route), ...route.people.flatMap((p) => this.identitiesOf(p))])] };
  }

  /** The person who asked (OpenClaw's requester: the chat sender who started the run), if known. */
  requesterPerson(r: Requester): string | null {
    if (!r.channel || !r.senderId) return null;
    return this.byKey.get(`${r.channel}:${r.senderId}`) ?? this.byKey.get(`openclaw:${r.channel}:${r.senderId}`) ?? null;
  }
}

/**
 * The identity keys a requester is known by: as the channel itself knows them ("slack:U0ALICE",
 * "cli:alice@host") and as an OpenClaw chat sender deciding with /clawgate ("openclaw:telegram:42").
 */
export function requesterIdentities(r: Requester): string[] {
  if (!r.channel || !r.senderId) return [];
  return [`${r.channel}:${r.senderId}`, `openclaw:${r.channel}:${r.senderId}`];
}

/** "slack:U0ALICE" → { channel: "slack", id: "U0ALICE" }; null for anything not of that shape. */
export function parseIdentityKey(key: string): Identity | null {
  const i = key.indexOf(":");
  return i > 0 ? { channel: key.slice(0, i), id: key.slice(i + 1) } : null;
}
