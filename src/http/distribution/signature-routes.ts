import { RegistryError } from '../../oci/errors.js';
import { principalLabel } from '../../iam/principal.js';
import { MAX_SIGNATURE_BYTES, SimpleSignatureService } from '../../trust/simple-signatures.js';
import { readBody } from './body.js';
import { sendJson } from './discovery.js';
import { byMethod, type Handler, type HandlerContext } from './handler.js';

type SignatureRoute = { family: 'signatures'; name: string; digest: string };

/**
 * The registry signature API (OpenShift's /extensions/v2/<name>/signatures/<digest>), announced by
 * X-Registry-Supports-Signatures: 1 on /v2/. containers/image GETs the list before each PUT and expects
 * 201 for a stored signature.
 */
async function list({ registry, route, request, reply }: HandlerContext<SignatureRoute>): Promise<void> {
  const signatures = await new SimpleSignatureService(registry.ctx).list(route.name, route.digest);
  await sendJson(reply, request.method, { signatures }, 'application/json');
}

function tooLarge(size: number): RegistryError {
  return new RegistryError('MANIFEST_INVALID', `a signature is at most ${MAX_SIGNATURE_BYTES} bytes; this one has ${size}`, null, { status: 413 });
}

async function add({ registry, route, principal, request, reply }: HandlerContext<SignatureRoute>): Promise<void> {
  const body = await readBody(request.raw, MAX_SIGNATURE_BYTES, tooLarge);
  await new SimpleSignatureService(registry.ctx).add(route.name, route.digest, body, principalLabel(principal));
  await reply.code(201).header('Content-Length', 0).send();
}

export const signatures: Handler<SignatureRoute> = byMethod({ GET: list, HEAD: list, PUT: add });
