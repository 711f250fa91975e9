/**
 * Kubernetes AdmissionReview v1 (admission.k8s.io/v1), as the API server sends it to validating and
 * mutating webhooks: where each workload kind keeps its pod spec, which images its containers name,
 * and the response the API server expects (uid echoed, status.message on denial, a base64 JSONPatch).
 */

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/** A review the API server could not have sent: answered 400, which the API server treats as the webhook failing (failurePolicy decides). */
export class AdmissionReviewError extends Error {}

export type ContainerList = 'initContainers' | 'containers' | 'ephemeralContainers';

export interface ContainerImage {
  list: ContainerList;
  /** The container's name (index when it has none, which the API server rejects anyway). */
  container: string;
  image: string;
  /** JSON pointer of the image field, for the patch that pins it. */
  pointer: string;
}

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  operation: string;
  namespace?: string;
  name?: string;
  dryRun: boolean;
  object: unknown;
  /** The object before an UPDATE (null otherwise). */
  oldObject: unknown;
}

/** Where the pod spec of each kind is (apps/v1, batch/v1, core v1 kinds). */
const POD_SPEC_PATHS: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

export const WORKLOAD_KINDS = Object.keys(POD_SPEC_PATHS);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The request of an AdmissionReview v1, or AdmissionReviewError saying what is missing. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  if (!isObject(body)) throw new AdmissionReviewError('the body is not an AdmissionReview: send a JSON object with apiVersion admission.k8s.io/v1 and kind AdmissionReview');
  if (body.kind !== 'AdmissionReview' || body.apiVersion !== ADMISSION_API_VERSION) {
    throw new AdmissionReviewError(`expected kind AdmissionReview of apiVersion ${ADMISSION_API_VERSION}, got kind ${JSON.stringify(body.kind ?? null)} of apiVersion ${JSON.stringify(body.apiVersion ?? null)}: set admissionReviewVersions: ["v1"] in the webhook configuration`);
  }
  const request = body.request;
  if (!isObject(request)) throw new AdmissionReviewError('the AdmissionReview has no request object');
  if (typeof request.uid !== 'string' || request.uid.length === 0 || request.uid.length > 256) throw new AdmissionReviewError('the AdmissionReview request has no uid');
  const kind = request.kind;
  if (!isObject(kind) || typeof kind.kind !== 'string') throw new AdmissionReviewError('the AdmissionReview request has no kind');
  if (typeof request.operation !== 'string') throw new AdmissionReviewError('the AdmissionReview request has no operation');
  return {
    uid: request.uid,
    kind: { group: typeof kind.group === 'string' ? kind.group : '', version: typeof kind.version === 'string' ? kind.version : '', kind: kind.kind },
    operation: request.operation,
    ...(typeof request.namespace === 'string' ? { namespace: request.namespace } : {}),
    ...(typeof request.name === 'string' ? { name: request.name } : {}),
    dryRun: request.dryRun === true,
    object: request.object ?? null,
    oldObject: request.oldObject ?? null,
  };
}

/**
 * The images of every container of the object's pod spec (init, regular and ephemeral), or a
 * problem the response states (a kind Wharf does not know, an object without a pod spec).
 */
export function containerImages(request: Pick<AdmissionRequest, 'kind' | 'object'>): ContainerImage[] | { problem: string } {
  const path = POD_SPEC_PATHS[request.kind.kind];
  if (!path) return { problem: `Wharf does not know where a ${request.kind.kind} keeps its containers: limit the webhook's rules to ${WORKLOAD_KINDS.join(', ')}` };
  let node: unknown = request.object;
  for (const key of path) node = isObject(node) ? node[key] : undefined;
  if (!isObject(node)) return { problem: `the ${request.kind.kind} has no pod spec at .${path.join('.')}` };
  const images: ContainerImage[] = [];
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    const containers = node[list];
    if (containers === undefined || containers === null) continue;
    if (!Array.isArray(containers)) return { problem: `.${[...path, list].join('.')} of the ${request.kind.kind} is not a list` };
    containers.forEach((c: unknown, index) => {
      const name = isObject(c) && typeof c.name === 'string' ? c.name : `#${index}`;
      const image = isObject(c) ? c.image : undefined;
      // A container without an image is refused by the API server's own validation after us; it runs nothing.
      if (typeof image !== 'string') return;
      images.push({ list, container: name, image, pointer: `/${[...path, list, String(index), 'image'].join('/')}` });
    });
  }
  return images;
}

/**
 * The containers an UPDATE gives a new image (or adds): only those are judged, so a label change
 * on a running workload is not refused because its admitted image has since fallen out of policy.
 */
export function changedImages(request: AdmissionRequest, images: ContainerImage[]): ContainerImage[] {
  if (request.operation !== 'UPDATE' || request.oldObject === null) return images;
  const old = containerImages({ kind: request.kind, object: request.oldObject });
  if (!Array.isArray(old)) return images;
  const before = new Map(old.map((c) => [c.pointer, c.image]));
  return images.filter((c) => before.get(c.pointer) !== c.image);
}

export interface JsonPatchOperation {
  op: 'replace';
  path: string;
  value: string;
}

/** The AdmissionReview answer; the patch (mutating webhook) is sent base64 as the API server wants it. */
export function admissionResponse(uid: string, outcome: { allowed: boolean; message?: string; patch?: JsonPatchOperation[]; warnings?: string[] }): Record<string, unknown> {
  const response: Record<string, unknown> = { uid, allowed: outcome.allowed };
  if (!outcome.allowed) response.status = { code: 403, reason: 'Forbidden', message: outcome.message ?? 'denied by the image policy' };
  if (outcome.allowed && outcome.patch && outcome.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(outcome.patch)).toString('base64');
  }
  if (outcome.warnings && outcome.warnings.length > 0) response.warnings = outcome.warnings;
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}
