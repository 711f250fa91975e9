import { RegistryError } from '../oci/errors.js';
import { parseDigest } from '../oci/digest.js';
import { assertRepositoryName } from '../oci/names.js';
import { findManifestByDigest } from '../metadata/manifests.js';
import { findRepositoryId } from '../metadata/repositories.js';
import { insertSignature, listSignatures } from '../metadata/signatures.js';
import type { RegistryContext } from '../registry/context.js';
import { manifestUnknown } from '../registry/manifests.js';

/**
 * The registry signature API that containers/image speaks to OpenShift's registry and IBM Cloud
 * Container Registry (docker_client.go, extensionSignature): one JSON object per signature, the
 * content base64 as Go encodes a []byte.
 */
export interface ExtensionSignature {
  schemaVersion: number;
  name: string;
  type: string;
  content: string;
}

/** The only schema and type containers/image reads or writes (extensionSignatureSchemaVersion, ...TypeAtomic). */
export const SIGNATURE_SCHEMA_VERSION = 2;
export const SIGNATURE_TYPE_ATOMIC = 'atomic';
/** A signature is a few hundred bytes of OpenPGP; containers/image reads at most 4 MiB of a signature list. */
export const MAX_SIGNATURE_BYTES = 64 * 1024;
export const MAX_SIGNATURES_PER_IMAGE = 100;

/** `<digest>@<something unique>`: containers/image makes it `<digest>@<32 hex digits>`. */
const NAME_SUFFIX = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function invalid(message: string): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message, null);
}

/** Checks a PUT body against the URL's digest; the stored form has the signature bytes decoded. */
export function parseExtensionSignature(body: Buffer, digest: string): { name: string; content: Buffer } {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('the signature must be JSON: {"schemaVersion":2,"type":"atomic","name":"<digest>@<unique>","content":"<base64>"}');
  }
  const sig = value as Partial<ExtensionSignature> | null;
  if (!sig || typeof sig !== 'object') throw invalid('the signature must be a JSON object');
  if (sig.schemaVersion !== SIGNATURE_SCHEMA_VERSION) throw invalid(`schemaVersion must be ${SIGNATURE_SCHEMA_VERSION}, not ${JSON.stringify(sig.schemaVersion ?? null)}`);
  if (sig.type !== undefined && sig.type !== '' && sig.type !== SIGNATURE_TYPE_ATOMIC) throw invalid(`type must be "${SIGNATURE_TYPE_ATOMIC}": the registry stores simple signing signatures only`);
  if (typeof sig.name !== 'string') throw invalid('name must be "<digest>@<unique name>"');
  const at = sig.name.indexOf('@');
  if (at === -1 || sig.name.slice(0, at) !== digest || !NAME_SUFFIX.test(sig.name.slice(at + 1))) {
    throw invalid(`name must be "${digest}@<unique name>" (letters, digits, '.', '_', '-'), the image's digest first`);
  }
  if (typeof sig.content !== 'string' || sig.content.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(sig.content)) throw invalid('content must be the signature, base64-encoded');
  return { name: sig.name, content: Buffer.from(sig.content, 'base64') };
}

/** Simple signatures of images, stored beside them in the metadata database. */
export class SimpleSignatureService {
  constructor(private readonly ctx: RegistryContext) {}

  /** The image's signatures in the API's shape; the image must exist (MANIFEST_UNKNOWN otherwise). */
  async list(name: string, digestText: string): Promise<ExtensionSignature[]> {
    const digest = await this.requireImage(name, digestText);
    const rows = await listSignatures(this.ctx.db, name, digest);
    return rows.map((r) => ({ schemaVersion: SIGNATURE_SCHEMA_VERSION, name: r.name, type: SIGNATURE_TYPE_ATOMIC, content: Buffer.from(r.content).toString('base64') }));
  }

  async add(name: string, digestText: string, body: Buffer, by: string): Promise<void> {
    const digest = await this.requireImage(name, digestText);
    const { name: signatureName, content } = parseExtensionSignature(body, digest);
    const existing = await listSignatures(this.ctx.db, name, digest);
    if (existing.length >= MAX_SIGNATURES_PER_IMAGE) {
      throw new RegistryError('DENIED', `${name}@${digest} has ${existing.length} signatures, the most an image may carry`, { limit: MAX_SIGNATURES_PER_IMAGE });
    }
    const repositoryId = (await findRepositoryId(this.ctx.db, name))!;
    if (!(await insertSignature(this.ctx.db, repositoryId, digest, signatureName, content, by, this.ctx.now()))) {
      throw new RegistryError('DENIED', `the image already has a signature named ${signatureName}: choose another name`, { name: signatureName }, { status: 409 });
    }
  }

  private async requireImage(name: string, digestText: string): Promise<string> {
    assertRepositoryName(name);
    const digest = parseDigest(digestText).value;
    if (!(await findManifestByDigest(this.ctx.db, name, digest))) throw manifestUnknown(name, digest);
    return digest;
  }
}
