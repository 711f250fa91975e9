import type { Kysely } from 'kysely';
import type { Selectable } from 'kysely';
import type { Database, PolicyTable, PrincipalKind, SubjectKind } from './schema.js';

type Db = Kysely<Database>;

export type PolicyRow = Selectable<PolicyTable>;

/** Policies that apply to a principal directly or through its access groups, within its account. */
export async function policiesFor(db: Db, accountId: number, kind: PrincipalKind, id: number): Promise<PolicyRow[]> {
  const groupIds = db.selectFrom('group_members').select('group_id').where('principal_kind', '=', kind).where('principal_id', '=', id);
  return db.selectFrom('policies').selectAll()
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([
      eb.and([eb('subject_kind', '=', kind), eb('subject_id', '=', id)]),
      eb.and([eb('subject_kind', '=', 'group'), eb('subject_id', 'in', groupIds)]),
    ]))
    .execute();
}

export async function insertPolicy(db: Db, policy: Omit<PolicyRow, 'id'>): Promise<number> {
  const row = await db.insertInto('policies').values(policy).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function listPolicies(db: Db, accountId: number): Promise<PolicyRow[]> {
  return db.selectFrom('policies').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
}

export async function findPolicy(db: Db, id: number): Promise<PolicyRow | undefined> {
  return db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function deletePolicy(db: Db, id: number): Promise<void> {
  await db.deleteFrom('policies').where('id', '=', id).execute();
}

export async function deletePoliciesOf(db: Db, kind: SubjectKind, id: number): Promise<void> {
  await db.deleteFrom('policies').where('subject_kind', '=', kind).where('subject_id', '=', id).execute();
}

export async function deleteNamespacePolicies(db: Db, accountId: number, namespace: string): Promise<void> {
  await db.deleteFrom('policies').where('account_id', '=', accountId).where('namespace', '=', namespace).execute();
}

export async function insertGroup(db: Db, accountId: number, name: string, now: number): Promise<number> {
  const row = await db.insertInto('access_groups').values({ account_id: accountId, name, created_at: now }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function findGroup(db: Db, id: number) {
  return db.selectFrom('access_groups').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findGroupByName(db: Db, accountId: number, name: string) {
  return db.selectFrom('access_groups').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
}

export async function listGroups(db: Db, accountId: number) {
  const groups = await db.selectFrom('access_groups').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
  const members = groups.length === 0 ? [] : await db.selectFrom('group_members').selectAll().where('group_id', 'in', groups.map((g) => g.id)).execute();
  return groups.map((g) => ({ ...g, members: members.filter((m) => m.group_id === g.id).map((m) => ({ kind: m.principal_kind, id: m.principal_id })) }));
}

export async function deleteGroup(db: Db, id: number): Promise<void> {
  await db.deleteFrom('policies').where('subject_kind', '=', 'group').where('subject_id', '=', id).execute();
  await db.deleteFrom('access_groups').where('id', '=', id).execute();
}

export async function addGroupMember(db: Db, groupId: number, kind: PrincipalKind, id: number): Promise<void> {
  await db.insertInto('group_members').values({ group_id: groupId, principal_kind: kind, principal_id: id })
    .onConflict((oc) => oc.columns(['group_id', 'principal_kind', 'principal_id']).doNothing()).execute();
}

export async function removeGroupMember(db: Db, groupId: number, kind: PrincipalKind, id: number): Promise<void> {
  await db.deleteFrom('group_members').where('group_id', '=', groupId).where('principal_kind', '=', kind).where('principal_id', '=', id).execute();
}

export async function removeFromAllGroups(db: Db, kind: PrincipalKind, id: number): Promise<void> {
  await db.deleteFrom('group_members').where('principal_kind', '=', kind).where('principal_id', '=', id).execute();
}
