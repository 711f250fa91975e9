import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { connectMetadata, type MetadataDb } from '../../src/metadata/connect.js';
import { AuditLog, auditRequests, namespaceOfResource } from '../../src/iam/audit-log.js';
import { parseInstant } from '../../src/cli/commands/audit.js';

describe('namespaceOfResource', () => {
  it('names the namespace of the resource forms the audit records use, and nothing for others', () => {
    assert.equal(namespaceOfResource('repository team-a/app'), 'team-a');
    assert.equal(namespaceOfResource('namespace team-a'), 'team-a');
    assert.equal(namespaceOfResource('image team-a/app@sha256:00'), 'team-a');
    assert.equal(namespaceOfResource('team-a/app:v1'), 'team-a');
    assert.equal(namespaceOfResource('team-a/deep/app@sha256:00'), 'team-a');
    assert.equal(namespaceOfResource('registry'), null);
    assert.equal(namespaceOfResource('quota'), null);
    assert.equal(namespaceOfResource('cve-2024-1 (team-a/app)'), null, 'an exemption is named by its issue first');
    assert.equal(namespaceOfResource('account tenant-b'), null);
  });
});

describe('wharf audit --since/--until', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  it('takes a duration before now or a date', () => {
    assert.equal(parseInstant('30m', now, '--since'), '2026-11-30T11:30:00.000Z');
    assert.equal(parseInstant('24h', now, '--since'), '2026-11-29T12:00:00.000Z');
    assert.equal(parseInstant('7d', now, '--since'), '2026-11-23T12:00:00.000Z');
    assert.equal(parseInstant('2026-11-01', now, '--since'), '2026-11-01T00:00:00.000Z');
    assert.equal(parseInstant('2026-11-01T08:15:00Z', now, '--until'), '2026-11-01T08:15:00.000Z');
    assert.throws(() => parseInstant('yesterday', now, '--since'), /--since "yesterday" is neither a duration \(30m, 24h, 7d\) nor a date/);
  });
});

describe('AuditLog batching', () => {
  let dir: string;
  let metadata: MetadataDb;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-audit-'));
    metadata = await connectMetadata({ engine: 'sqlite', sqlitePath: path.join(dir, 'wharf.db'), url: '', poolSize: 1, connectTimeout: 10 });
  });
  after(async () => {
    await metadata.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('identical batched events become one row with their count, the first request ID and time; distinct ones stay apart', async () => {
    let clock = 1000;
    const audit = new AuditLog(metadata.db, pino({ level: 'silent' }), () => clock);
    const pull = { accountId: 1, actor: 'user alice', action: 'registry.pull', resource: 'team-a/app@sha256:aa', outcome: 'success' as const, source: '10.0.0.1' };
    auditRequests.run({ requestId: 'first' }, () => audit.recordBatched(pull));
    for (let i = 0; i < 999; i++) {
      clock++;
      auditRequests.run({ requestId: `r${i}` }, () => audit.recordBatched(pull));
    }
    audit.recordBatched({ ...pull, source: '10.0.0.2' });
    audit.recordBatched({ ...pull, actor: 'user bob' });
    assert.equal((await metadata.db.selectFrom('audit_events').select('id').execute()).length, 0, 'nothing is written before the flush');
    await audit.flush();
    const rows = await metadata.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
    assert.deepEqual(rows.map((r) => [r.actor, r.source, r.count]), [['user alice', '10.0.0.1', 1000], ['user alice', '10.0.0.2', 1], ['user bob', '10.0.0.1', 1]]);
    assert.equal(rows[0]!.request_id, 'first');
    assert.equal(rows[0]!.at, 1000);
    assert.equal(rows[0]!.namespace, 'team-a');
    await audit.flush();
    assert.equal((await metadata.db.selectFrom('audit_events').select('id').execute()).length, 3, 'a flush with nothing pending writes nothing');
  });

  it('stop() writes what is pending', async () => {
    const audit = new AuditLog(metadata.db, pino({ level: 'silent' }), () => 5000);
    audit.start(3_600_000);
    audit.recordBatched({ accountId: 2, actor: 'user carol', action: 'login', resource: 'registry', outcome: 'success', source: '10.0.0.3' });
    await audit.stop();
    const row = await metadata.db.selectFrom('audit_events').selectAll().where('actor', '=', 'user carol').executeTakeFirstOrThrow();
    assert.equal(row.count, 1);
    assert.equal(row.request_id, null);
  });
});
