import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { apiJson, basic, fetchToken, send, setUpTenants, type Creds, type Tenants } from '../support/iam.js';

/**
 * Pulls from a public namespace by anyone outside the owning account count apart from the account's
 * own pull quota, against their own limit, and what those clients are told reveals nothing of the account.
 */

const LAYER_BYTES = 300;

interface QuotaView {
  pullTraffic: { limit: number | null; used: number };
  publicPullTraffic: { limit: number | null; used: number; month: string };
}

for (const engine of engines()) {
  describe(`public pulls and the pull quota [${engine}]`, () => {
    let server: TestServer;
    let fx: Tenants;

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true } });
      fx = await setUpTenants(server);
      await apiJson(fx.base, 'PATCH', '/namespaces/teama', basic(fx.admin), { publicPull: true }, 200);
    });
    after(async () => { await server?.stop(); });

    async function pullLayer(creds: Creds | undefined): Promise<Response> {
      const token = await fetchToken(fx.base, creds, ['repository:teama/app:pull']);
      return send(fx.base, { method: 'GET', path: `/v2/teama/app/blobs/${fx.app.layer}` }, `Bearer ${token}`);
    }

    it('anonymous and other tenants\' pulls use the public limit, never the account\'s own quota', async () => {
      const before = await apiJson<QuotaView>(fx.base, 'GET', '/quota', basic(fx.admin));
      // Room for exactly one more own pull of the layer, and two public ones.
      const ownLimit = before.pullTraffic.used + LAYER_BYTES;
      const publicLimit = before.publicPullTraffic.used + 2 * LAYER_BYTES;
      await apiJson(fx.base, 'PUT', '/quota', basic(fx.admin), { pullBytesPerMonth: ownLimit, publicPullBytesPerMonth: publicLimit }, 200);

      assert.equal((await pullLayer(undefined)).status, 200, 'anonymous pull');
      assert.equal((await pullLayer(fx.bowner)).status, 200, 'another tenant\'s pull of a public namespace');
      for (const outsider of [undefined, fx.bowner]) {
        const refused = await pullLayer(outsider);
        assert.equal(refused.status, 403);
        const text = await refused.text();
        const body = JSON.parse(text) as { errors: Array<{ code: string; message: string; detail: unknown }> };
        assert.equal(body.errors[0]!.code, 'DENIED');
        assert.match(body.errors[0]!.message, /public pulls of teama have reached their limit for this month/);
        assert.equal(body.errors[0]!.detail, null);
        // Nothing of the account: no usage, limit or name, in any unit.
        for (const secret of [String(publicLimit), String(ownLimit), String(before.pullTraffic.used), 'default', 'account', 'quota', /\d+(\.\d+)? ?[KMG]?B\b/]) {
          if (typeof secret === 'string') assert.ok(!text.includes(secret), `the refusal names ${secret}: ${text}`);
          else assert.doesNotMatch(text, secret);
        }
      }

      // The tenant's own pull still fits its quota: public traffic did not use it.
      assert.equal((await pullLayer(fx.reader)).status, 200, 'the tenant pulls after the public limit is reached');
      const after = await apiJson<QuotaView>(fx.base, 'GET', '/quota', basic(fx.reader));
      assert.equal(after.pullTraffic.used, before.pullTraffic.used + LAYER_BYTES);
      assert.equal(after.publicPullTraffic.used, before.publicPullTraffic.used + 2 * LAYER_BYTES);
      assert.equal(after.publicPullTraffic.limit, publicLimit);
      assert.match(after.publicPullTraffic.month, /^\d{4}-\d{2}$/);

      // The tenant's own quota is its own business: its members are told the figures.
      const own = await pullLayer(fx.reader);
      assert.equal(own.status, 403);
      assert.match(await own.text(), /pull traffic quota exceeded/);

      // Without a public limit, public pulls are not limited (and still not counted as the tenant's).
      await apiJson(fx.base, 'PUT', '/quota', basic(fx.admin), { publicPullBytesPerMonth: null, pullBytesPerMonth: null }, 200);
      assert.equal((await pullLayer(undefined)).status, 200);
      const last = await apiJson<QuotaView>(fx.base, 'GET', '/quota', basic(fx.admin));
      assert.equal(last.pullTraffic.used, after.pullTraffic.used);
      assert.equal(last.publicPullTraffic.used, after.publicPullTraffic.used + LAYER_BYTES);
    });
  });
}
