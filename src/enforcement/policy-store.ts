import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import * as rows from '../metadata/image-policies.js';
import type { AppliedPolicy, PolicySource } from './evaluate.js';
import { parsePolicy, type ImagePolicy, type PolicyScope } from './policy.js';

/** Most specific first: the one policy that applies to an image is the first found in this order. */
const PRECEDENCE: readonly PolicyScope[] = ['repository', 'namespace', 'account', 'cluster'];

export interface StoredPolicy extends AppliedPolicy {
  updated: string;
  updatedBy: string;
}

/** Image policies in the metadata store; rights are checked by the caller (the API routes). */
export class ImagePolicyStore implements PolicySource {
  constructor(private readonly db: Kysely<Database>, private readonly now: () => number) {}

  async forRepository(accountId: number, repository: string): Promise<AppliedPolicy | undefined> {
    const candidates = await rows.candidateImagePolicies(this.db, accountId, repository);
    candidates.sort((a, b) => PRECEDENCE.indexOf(a.scope) - PRECEDENCE.indexOf(b.scope));
    return candidates[0] && stored(candidates[0]);
  }

  async cluster(): Promise<AppliedPolicy | undefined> {
    return this.get('cluster', null, '');
  }

  async get(scope: PolicyScope, accountId: number | null, target: string): Promise<StoredPolicy | undefined> {
    const row = await rows.findImagePolicy(this.db, scope, scope === 'cluster' ? null : accountId, target);
    return row && stored(row);
  }

  async list(accountId: number): Promise<StoredPolicy[]> {
    return (await rows.listImagePolicies(this.db, accountId)).map(stored);
  }

  /** Checks the rules (PolicyError says what is wrong) and replaces the policy of that place. */
  async set(scope: PolicyScope, accountId: number | null, target: string, input: unknown, by: string): Promise<StoredPolicy> {
    const policy = parsePolicy(input, scope);
    await rows.saveImagePolicy(this.db, scope, scope === 'cluster' ? null : accountId, target, JSON.stringify(policy), this.now(), by);
    return (await this.get(scope, accountId, target))!;
  }

  async remove(scope: PolicyScope, accountId: number | null, target: string): Promise<boolean> {
    return rows.deleteImagePolicy(this.db, scope, scope === 'cluster' ? null : accountId, target);
  }
}

function stored(row: rows.ImagePolicyRow): StoredPolicy {
  return { scope: row.scope, target: row.target, policy: JSON.parse(row.policy) as ImagePolicy, updated: new Date(row.updatedAt).toISOString(), updatedBy: row.updatedBy };
}
