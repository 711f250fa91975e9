// One garbage collection of a seeded Wharf data directory, through the collector's public entry
// point, in a process of its own so that its wall time and peak RSS are the collector's (plus
// Node's baseline). Runs the compiled dist/ (no TypeScript loader in the figures).
//   node bench/gc-child.mjs <data dir>   prints the GcReport as JSON
import path from 'node:path';
import pino from 'pino';

const dist = new URL('../dist/', import.meta.url);
const { connectMetadata } = await import(new URL('metadata/connect.js', dist).href);
const { blobLocks } = await import(new URL('metadata/blob-locks.js', dist).href);
const { FsBlobStore } = await import(new URL('storage/fs/fs-blob-store.js', dist).href);
const { GarbageCollector } = await import(new URL('registry/garbage-collector.js', dist).href);

const dir = process.argv[2];
const metadata = await connectMetadata({ engine: 'sqlite', sqlitePath: path.join(dir, 'wharf.db'), url: '', poolSize: 1 });
const store = new FsBlobStore(dir);
await store.init();
const gc = new GarbageCollector(metadata.db, store, blobLocks('sqlite'), pino({ level: 'silent' }), Date.now, { gracePeriod: 3600 });
const report = await gc.run({ trigger: 'bench' });
await metadata.close();
console.log(JSON.stringify(report));
