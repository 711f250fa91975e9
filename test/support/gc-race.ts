import assert from 'node:assert/strict';
import type { TestServer } from './server.js';
import { digestOf } from './http.js';
import { assertConsistent, fsckServer } from './fsck.js';

/** An image whose push was acknowledged and that was not deleted: it must survive every collection. */
export interface KeptImage {
  name: string;
  digest: string;
  blobs: string[];
}

/** Empties the trash now, as its expiry would. */
export async function expireTrash(server: TestServer): Promise<void> {
  await server.metadata.db.updateTable('trash').set({ expires_at: 0 }).execute();
  await server.registry.images.purgeExpiredTrash();
}

/**
 * After collections raced pushes: every kept image pulls whole (manifest and each blob, by digest),
 * every blob row has its bytes, and fsck finds nothing wrong.
 */
export async function assertNothingLost(server: TestServer, kept: KeptImage[], what: string): Promise<void> {
  for (const image of kept) {
    const res = await fetch(`${server.url}/v2/${image.name}/manifests/${image.digest}`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    for (const blob of image.blobs) {
      const pulled = await fetch(`${server.url}/v2/${image.name}/blobs/${blob}`);
      assert.equal(pulled.status, 200, `${image.name} blob ${blob} of an acknowledged push`);
      assert.equal(digestOf(Buffer.from(await pulled.arrayBuffer())), blob);
    }
  }
  for (const row of await server.metadata.db.selectFrom('blobs').select(['digest', 'size']).execute()) {
    assert.deepEqual(await server.registry.ctx.store.stat(row.digest), { size: Number(row.size) }, `blob ${row.digest} has its file`);
  }
  assertConsistent(await fsckServer(server), what);
}
