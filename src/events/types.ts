/**
 * What webhooks tell of. `push` is every acknowledged manifest PUT; a push that points an existing
 * tag at another image is also a `tag.moved`. `pull` is sent only to webhooks that ask for it.
 */
export const EVENT_TYPES = ['push', 'tag.moved', 'delete', 'pull', 'scan.completed', 'quota.warning', 'policy.denied'] as const;
export type EventType = typeof EVENT_TYPES[number];

/** What a webhook gets when its creator names no types: everything but pulls (opt-in: they are many). */
export const DEFAULT_EVENT_TYPES: EventType[] = EVENT_TYPES.filter((t) => t !== 'pull');

/** The request that made a change, as Distribution's envelope reports it. */
export interface EventOrigin {
  /** Who: a principal's label, or null for an anonymous client or the registry itself. */
  actor: string | null;
  requestId?: string;
  /** The client's address. */
  addr?: string;
  /** The Host the client addressed (the registry's name in event URLs). */
  host?: string;
  method?: string;
  userAgent?: string;
}

/** One event as the outbox keeps it; the payload formats are made from it at delivery. */
export interface RegistryEvent {
  id: string;
  type: EventType | 'webhook.test';
  /** ISO 8601. */
  time: string;
  /** Full repository name (`namespace/path`): the ordering key. */
  repository: string;
  target: {
    digest?: string;
    mediaType?: string;
    size?: number;
    tag?: string;
    /** tag.moved: where the tag pointed before. */
    previousDigest?: string;
  };
  origin: EventOrigin;
  /** What the type adds: a scan's status, a quota's figures, a policy's reason. */
  detail?: Record<string, unknown>;
}

/** An event before the outbox gives it an id and a time. */
export type NewEvent = Omit<RegistryEvent, 'id' | 'time'>;

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}
