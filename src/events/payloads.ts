import { CloudEvent } from 'cloudevents';
import type { RegistryEvent } from './types.js';

export const PAYLOAD_FORMATS = ['distribution', 'cloudevents'] as const;
export type PayloadFormat = typeof PAYLOAD_FORMATS[number];

/** Distribution's notification envelope: what tools written for the reference registry consume. */
export const DISTRIBUTION_EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';
export const CLOUDEVENTS_MEDIA_TYPE = 'application/cloudevents+json';
/** CloudEvents `type` prefix (reverse DNS, as the spec recommends). */
export const CLOUDEVENT_TYPE_PREFIX = 'io.wharf.registry.';

/** Who sends: this registry process. */
export interface EventSource {
  /** The registry's address as clients know it (http.publicUrl), or empty: the request's Host is used. */
  publicUrl: string;
  /** This process, so a receiver can tell replicas apart. */
  instanceId: string;
  /** host:port this process listens on. */
  addr: string;
}

export interface Payload {
  contentType: string;
  body: string;
}

export function formatPayload(format: PayloadFormat, event: RegistryEvent, source: EventSource): Payload {
  return format === 'cloudevents' ? cloudEvent(event, source) : distributionEnvelope(event, source);
}

function registryBase(event: RegistryEvent, source: EventSource): string {
  if (source.publicUrl) return source.publicUrl.replace(/\/+$/, '');
  return `http://${event.origin.host ?? source.addr}`;
}

/**
 * `{"events":[...]}` with one event, fields as Distribution's notifications/event.go names them.
 * Its actions are push, pull and delete; Wharf's other types keep their own name as the action, which
 * consumers that only know Distribution's three skip.
 */
function distributionEnvelope(event: RegistryEvent, source: EventSource): Payload {
  const { target } = event;
  const reference = target.digest ?? target.tag;
  const entry = {
    id: event.id,
    timestamp: event.time,
    action: event.type,
    target: {
      ...(target.mediaType ? { mediaType: target.mediaType } : {}),
      ...(target.size !== undefined ? { size: target.size, length: target.size } : {}),
      ...(target.digest ? { digest: target.digest } : {}),
      repository: event.repository,
      ...(reference ? { url: `${registryBase(event, source)}/v2/${event.repository}/manifests/${reference}` } : {}),
      ...(target.tag ? { tag: target.tag } : {}),
    },
    request: {
      id: event.origin.requestId ?? '',
      addr: event.origin.addr ?? '',
      host: event.origin.host ?? '',
      method: event.origin.method ?? '',
      useragent: event.origin.userAgent ?? '',
    },
    actor: event.origin.actor ? { name: event.origin.actor } : {},
    source: { addr: source.addr, instanceID: source.instanceId },
    // Not in Distribution's envelope: what Wharf's own types carry (a tag's previous digest, a scan's status).
    ...(target.previousDigest || event.detail ? { wharf: { ...(target.previousDigest ? { previousDigest: target.previousDigest } : {}), ...event.detail } } : {}),
  };
  return { contentType: DISTRIBUTION_EVENTS_MEDIA_TYPE, body: JSON.stringify({ events: [entry] }) };
}

/** CloudEvents 1.0 structured JSON mode, built and validated by the CNCF SDK. */
function cloudEvent(event: RegistryEvent, source: EventSource): Payload {
  const ce = new CloudEvent({
    specversion: '1.0',
    id: event.id,
    type: `${CLOUDEVENT_TYPE_PREFIX}${event.type}`,
    source: `${registryBase(event, source)}/v2/${event.repository}`,
    ...(event.target.digest ?? event.target.tag ? { subject: event.target.digest ?? event.target.tag } : {}),
    time: event.time,
    datacontenttype: 'application/json',
    data: {
      repository: event.repository,
      ...event.target,
      actor: event.origin.actor,
      ...(event.origin.requestId ? { requestId: event.origin.requestId } : {}),
      ...(event.detail ? { detail: event.detail } : {}),
    },
  }, true);
  return { contentType: CLOUDEVENTS_MEDIA_TYPE, body: JSON.stringify(ce.toJSON()) };
}
