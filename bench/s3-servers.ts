/**
 * The S3-backed targets: Wharf (SQLite metadata, storage.driver s3) and Distribution (its own `s3`
 * driver) on ONE throwaway radosgw (test/support/radosgw.mjs), each under its own prefix of the
 * same bucket, with or without presigned redirects of blob GETs. The store starts on first use
 * and stops with the benchmark.
 */
import os from 'node:os';
import path from 'node:path';
import type { TargetName } from './options.js';
import { cleanEnv, startDistribution, startWharf, type RunningServer } from './servers.js';

export const S3_TARGETS = ['wharf-s3', 'distribution-s3', 'wharf-s3-redirect', 'distribution-s3-redirect'] as const;
export type S3Target = (typeof S3_TARGETS)[number];

export function isS3Target(target: TargetName): target is S3Target {
  return (S3_TARGETS as readonly string[]).includes(target);
}

interface Radosgw { env: Record<string, string>; stop(): void }
let radosgw: Promise<Radosgw> | undefined;
let started: Radosgw | undefined;

async function store(): Promise<Radosgw> {
  radosgw ??= (async () => {
    const modulePath = new URL('../test/support/radosgw.mjs', import.meta.url).href;
    const { startRadosgw } = (await import(modulePath)) as { startRadosgw(): Promise<Radosgw> };
    started = await startRadosgw();
    return started;
  })();
  return radosgw;
}

/** Stops the store if it was started (idempotent). */
export function stopRadosgw(): void {
  started?.stop();
  started = undefined;
  radosgw = undefined;
}

let serial = 0;

export async function startS3Target(target: S3Target): Promise<RunningServer> {
  const { env } = await store();
  const redirect = target.endsWith('-redirect');
  const prefix = `${target}-${process.pid}-${++serial}`;
  const server = target.startsWith('wharf')
    ? await startWharf({
      env: {
        WHARF_STORAGE_DRIVER: 's3',
        WHARF_STORAGE_S3_ENDPOINT: env.S3_ENDPOINT!,
        WHARF_STORAGE_S3_REGION: env.AWS_REGION!,
        WHARF_STORAGE_S3_BUCKET: env.S3_BUCKET!,
        WHARF_STORAGE_S3_PREFIX: `${prefix}/`,
        WHARF_STORAGE_S3_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID!,
        WHARF_STORAGE_S3_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY!,
        WHARF_STORAGE_S3_REDIRECT: String(redirect),
      },
    })
    : await startDistributionS3(env, prefix, redirect);
  // Blobs live in the store, not in a file: housekeeping that removes files finds none.
  return { ...server, target, blobFile: () => path.join(os.tmpdir(), 'wharf-bench-no-such-file') };
}

async function startDistributionS3(env: Record<string, string>, prefix: string, redirect: boolean): Promise<RunningServer> {
  const endpoint = new URL(env.S3_ENDPOINT!);
  // aws-sdk-go panics on an AWS_CA_BUNDLE (set on some machines) with the transport Distribution
  // gives it; the store is plain HTTP on loopback, so no CA bundle is wanted.
  const childEnv = cleanEnv({});
  delete childEnv.AWS_CA_BUNDLE;
  // Distribution 2.8's s3 driver: a regionendpoint implies path-style addressing; chunksize is its
  // multipart part size (default 10 MiB, minimum 5 MiB).
  return startDistribution([
    '  s3:',
    `    regionendpoint: ${endpoint.origin}`,
    `    region: ${env.AWS_REGION}`,
    `    bucket: ${env.S3_BUCKET}`,
    `    accesskey: ${env.AWS_ACCESS_KEY_ID}`,
    `    secretkey: ${env.AWS_SECRET_ACCESS_KEY}`,
    `    rootdirectory: /${prefix}`,
    `    secure: ${endpoint.protocol === 'https:'}`,
    '    v4auth: true',
    '  redirect:',
    `    disable: ${!redirect}`,
  ], childEnv);
}
