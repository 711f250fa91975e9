import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import { countAccounts, insertAccount } from '../metadata/accounts.js';
import { insertUser } from '../metadata/principals.js';
import { hashPassword } from './secrets.js';

export interface BootstrapResult {
  created: boolean;
  username?: string;
  /** Set only when the password was generated: the caller shows it once, outside the logs. */
  generatedPassword?: string;
}

/** On first start, creates the default account and its owner. Later starts change nothing. */
export async function bootstrapAdministrator(db: Kysely<Database>, options: { account: string; username: string; password: string }, now: number): Promise<BootstrapResult> {
  if ((await countAccounts(db)) > 0) return { created: false };
  const password = options.password || randomBytes(18).toString('base64url');
  const passwordHash = await hashPassword(password);
  try {
    await db.transaction().execute(async (trx) => {
      const accountId = await insertAccount(trx, options.account, now);
      await insertUser(trx, { accountId, username: options.username, passwordHash, owner: true, now });
    });
  } catch (err) {
    // Another replica bootstrapped at the same moment.
    if ((await countAccounts(db)) > 0) return { created: false };
    throw err;
  }
  return { created: true, username: options.username, ...(options.password ? {} : { generatedPassword: password }) };
}
