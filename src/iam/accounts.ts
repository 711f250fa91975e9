import type { Kysely } from 'kysely';
import { ProblemError } from '../errors/problem.js';
import type { Database } from '../metadata/schema.js';
import { findAccountByName, insertAccount } from '../metadata/accounts.js';
import { findUserByName, insertUser } from '../metadata/principals.js';
import { hashPassword } from './secrets.js';
import { checkPassword, checkUsername } from './user-rules.js';

const ACCOUNT_NAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;

export interface NewAccount {
  name: string;
  ownerUsername: string;
  ownerPassword: string;
}

/** Creates a tenant: the account and its owner (a Manager of the account), in one transaction. */
export async function createAccount(db: Kysely<Database>, input: NewAccount, now: number): Promise<{ accountId: number; ownerId: number }> {
  if (!ACCOUNT_NAME.test(input.name)) {
    throw new ProblemError('bad-request', 'an account name is 2 to 64 characters: lowercase letters, digits, ".", "_" and "-", starting with a letter or digit');
  }
  checkUsername(input.ownerUsername);
  checkPassword(input.ownerPassword);
  if (await findAccountByName(db, input.name)) throw new ProblemError('conflict', `account ${input.name} already exists`);
  if (await findUserByName(db, input.ownerUsername)) throw new ProblemError('conflict', `username ${input.ownerUsername} is taken: choose another`);
  const passwordHash = await hashPassword(input.ownerPassword);
  try {
    return await db.transaction().execute(async (trx) => {
      const accountId = await insertAccount(trx, input.name, now);
      const ownerId = await insertUser(trx, { accountId, username: input.ownerUsername, passwordHash, owner: true, now });
      return { accountId, ownerId };
    });
  } catch (err) {
    // Lost a race for the same account name or username.
    if (await findAccountByName(db, input.name) || await findUserByName(db, input.ownerUsername)) {
      throw new ProblemError('conflict', `account ${input.name} or username ${input.ownerUsername} was taken meanwhile`);
    }
    throw err;
  }
}
