import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import type { AdmissionSettings } from './admission.js';
import { ImagePolicyStore } from './policy-store.js';
import type { SignatureChecker } from './ports.js';

export interface EnforcementConfig extends AdmissionSettings {
  /** enforcement.registryHosts: the names clusters pull this registry's images by. */
  registryHosts: string[];
  /** http.publicUrl, whose host is one of them. */
  publicUrl: string;
}

/** Deployment enforcement as the HTTP layer uses it: the policies, the signature check, the settings. */
export class Enforcement {
  readonly policies: ImagePolicyStore;

  constructor(db: Kysely<Database>, readonly signatures: SignatureChecker, readonly settings: EnforcementConfig, now: () => number) {
    this.policies = new ImagePolicyStore(db, now);
  }

  /**
   * The hosts that name this registry in image references: the configured ones, the public URL's,
   * and the Host the request came to (a cluster pulling from the host it calls the webhook at).
   */
  registryHosts(requestHost: string | undefined): ReadonlySet<string> {
    const hosts = new Set(this.settings.registryHosts.map((h) => h.toLowerCase()));
    if (this.settings.publicUrl) hosts.add(new URL(this.settings.publicUrl).host.toLowerCase());
    if (requestHost) hosts.add(requestHost.toLowerCase());
    return hosts;
  }
}
