import type { Kysely } from 'kysely';
import { ProblemError } from '../errors/problem.js';
import type { Database, ExemptionScope } from '../metadata/schema.js';
import * as exemptions from '../metadata/exemptions.js';
import { findNamespace } from '../metadata/namespaces.js';
import { parseDigest } from '../oci/digest.js';
import type { Exemption } from './report.js';

export interface ExemptionInput {
  issueId: string;
  scope: ExemptionScope;
  namespace?: string | null;
  repository?: string | null;
  digest?: string | null;
  reason: string;
}

const ISSUE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{1,99}$/;

function view(row: Exemption) {
  return {
    id: row.id, issueId: row.issue_id, scope: row.scope, namespace: row.namespace, repository: row.repository, digest: row.digest,
    reason: row.reason, createdBy: row.created_by, created: new Date(Number(row.created_at)).toISOString(),
  };
}

/** Issues an account accepts: by advisory or check ID, for the account, a namespace, a repository or one image. */
export class ExemptionService {
  constructor(private readonly db: Kysely<Database>, private readonly now: () => number) {}

  async forAccount(accountId: number): Promise<Exemption[]> {
    return exemptions.listExemptions(this.db, accountId) as Promise<Exemption[]>;
  }

  async list(accountId: number) {
    return (await this.forAccount(accountId)).map(view);
  }

  async add(accountId: number, input: ExemptionInput, by: string) {
    if (!ISSUE_ID.test(input.issueId)) throw new ProblemError('bad-request', 'issueId must be an advisory ID (CVE-…, GHSA-…, DSA-…) or a configuration check ID');
    if (input.reason.trim().length === 0) throw new ProblemError('bad-request', 'say why the issue is accepted (reason)');
    const namespace = input.scope === 'account' ? null : input.namespace ?? null;
    const repository = input.scope === 'repository' || input.scope === 'image' ? input.repository ?? null : null;
    const digest = input.scope === 'image' ? input.digest ?? null : null;
    if (input.scope !== 'account') {
      if (!namespace) throw new ProblemError('bad-request', `a ${input.scope} exemption needs its namespace`);
      const row = await findNamespace(this.db, namespace);
      if (!row || row.account_id !== accountId) throw new ProblemError('not-found', `namespace ${namespace} is not one of your account's namespaces`);
    }
    if ((input.scope === 'repository' || input.scope === 'image') && !repository) throw new ProblemError('bad-request', `a ${input.scope} exemption needs the repository (inside the namespace)`);
    if (input.scope === 'image') {
      if (!digest) throw new ProblemError('bad-request', 'an image exemption needs the image digest');
      parseDigest(digest);
    }
    const id = await exemptions.insertExemption(this.db, {
      account_id: accountId, issue_id: input.issueId, scope: input.scope, namespace, repository, digest,
      reason: input.reason.slice(0, 1000), created_by: by, created_at: this.now(),
    });
    return view((await exemptions.findExemption(this.db, id)) as Exemption);
  }

  async remove(accountId: number, id: number): Promise<void> {
    const row = await exemptions.findExemption(this.db, id);
    if (!row || row.account_id !== accountId) throw new ProblemError('not-found', `exemption #${id} is not in your account`);
    await exemptions.deleteExemption(this.db, id);
  }
}
