import type { Kysely } from 'kysely';
import { ProblemError } from '../errors/problem.js';
import type { Database, TrustKeyKind } from '../metadata/schema.js';
import * as trustKeys from '../metadata/trust-keys.js';
import { KEY_NAME, parseTrustKey, TrustKeyError } from './keys.js';

export interface TrustKeyView {
  name: string;
  kind: TrustKeyKind;
  /** Null: trusted for every namespace of the account. */
  namespace: string | null;
  fingerprint: string;
  /** GPG user ids, the sigstore key's algorithm, or the certificate's subject. */
  identities: string[];
  publicKey: string;
  created: string;
  createdBy: string;
}

export interface NewKey {
  name: string;
  kind: TrustKeyKind;
  publicKey: string;
  namespace: string | null;
}

/** The keys an account trusts to sign its images: who may change them is the HTTP layer's to check. */
export class TrustKeyService {
  constructor(private readonly db: Kysely<Database>, private readonly now: () => number) {}

  async list(accountId: number): Promise<TrustKeyView[]> {
    return Promise.all((await trustKeys.listTrustKeys(this.db, accountId)).map((row) => this.view(row)));
  }

  async find(accountId: number, name: string): Promise<trustKeys.TrustKeyRow> {
    const row = await trustKeys.findTrustKey(this.db, accountId, name);
    if (!row) throw new ProblemError('not-found', `your account has no trusted key named ${name} (see wharf trust key list)`);
    return row;
  }

  async add(accountId: number, key: NewKey, by: string): Promise<TrustKeyView> {
    if (!KEY_NAME.test(key.name)) throw new ProblemError('bad-request', `key name "${key.name.slice(0, 80)}" is not valid: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    let parsed;
    try {
      parsed = await parseTrustKey(key.kind, key.publicKey);
    } catch (err) {
      if (err instanceof TrustKeyError) throw new ProblemError('bad-request', `the ${key.kind} key ${key.name} cannot be used: ${err.message}`);
      throw err;
    }
    const added = await trustKeys.insertTrustKey(this.db, {
      accountId, name: key.name, namespace: key.namespace, kind: key.kind, publicKey: key.publicKey.trim() + '\n',
      fingerprint: parsed.fingerprint, by, now: this.now(),
    });
    if (!added) throw new ProblemError('conflict', `your account already trusts a key named ${key.name}: remove it first (wharf trust key rm ${key.name}) or choose another name`);
    return this.view((await trustKeys.findTrustKey(this.db, accountId, key.name))!);
  }

  async remove(accountId: number, name: string): Promise<void> {
    if (!(await trustKeys.deleteTrustKey(this.db, accountId, name))) {
      throw new ProblemError('not-found', `your account has no trusted key named ${name} (see wharf trust key list)`);
    }
  }

  private async view(row: trustKeys.TrustKeyRow): Promise<TrustKeyView> {
    let identities: string[] = [];
    try {
      const parsed = await parseTrustKey(row.kind, row.public_key);
      identities = parsed.kind === 'gpg' ? parsed.userIds : parsed.kind === 'x509' ? [parsed.certificate.subject.replace(/\n/g, ', ')] : [parsed.algorithm];
    } catch {
      identities = [];
    }
    return {
      name: row.name, kind: row.kind, namespace: row.namespace, fingerprint: row.fingerprint, identities,
      publicKey: row.public_key, created: new Date(Number(row.created_at)).toISOString(), createdBy: row.created_by,
    };
  }
}
