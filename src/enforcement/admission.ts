import { changedImages, containerImages, type AdmissionRequest, type ContainerImage, type JsonPatchOperation } from './admission-review.js';
import { describeDenial, type EvaluationOptions, type ImageDecision, type PolicyEvaluator } from './evaluate.js';

export interface AdmissionDenial {
  container: ContainerImage;
  decision: ImageDecision;
}

export interface AdmissionOutcome {
  allowed: boolean;
  /** Every denied container, one line each (status.message). */
  message?: string;
  patch: JsonPatchOperation[];
  denials: AdmissionDenial[];
  warnings: string[];
  /** Why the registry could not decide, for its log (never in the response). */
  error?: Error;
}

export interface AdmissionSettings {
  /** Milliseconds the registry has to decide before it answers by failOpen. */
  evaluationTimeoutMs: number;
  /** When the registry cannot decide (timeout, database down): admit with a warning rather than deny. */
  failOpen: boolean;
}

/** Operations that bring no new pod spec: nothing to check. */
const NOTHING_TO_CHECK = new Set(['DELETE', 'CONNECT']);

/**
 * The webhook's decision for one request: each distinct image of the pod spec is evaluated once,
 * every denied container is named with its image and the failed rules, and (mutating) every admitted
 * tag of this registry is pinned to the digest that was checked.
 */
export async function decideAdmission(request: AdmissionRequest, evaluator: PolicyEvaluator, options: EvaluationOptions, settings: AdmissionSettings): Promise<AdmissionOutcome> {
  if (NOTHING_TO_CHECK.has(request.operation)) return { allowed: true, patch: [], denials: [], warnings: [] };
  const all = containerImages(request);
  if (!Array.isArray(all)) return { allowed: false, message: all.problem, patch: [], denials: [], warnings: [] };
  const images = changedImages(request, all);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), settings.evaluationTimeoutMs); });
  let decisions: Map<string, ImageDecision> | 'timeout' | Error;
  try {
    decisions = await Promise.race([evaluateAll(images, evaluator, options), deadline]);
  } catch (err) {
    decisions = err instanceof Error ? err : new Error(String(err));
  } finally {
    clearTimeout(timer);
  }
  if (!(decisions instanceof Map)) return undecided(decisions, settings);
  const denials = images.filter((c) => !decisions.get(c.image)!.allowed).map((c) => ({ container: c, decision: decisions.get(c.image)! }));
  if (denials.length > 0) {
    return { allowed: false, message: denials.map((d) => describeContainerDenial(d)).join('\n'), patch: [], denials, warnings: [] };
  }
  const patch = images.flatMap((c): JsonPatchOperation[] => {
    const pinned = decisions.get(c.image)!.pinned;
    return pinned ? [{ op: 'replace', path: c.pointer, value: pinned }] : [];
  });
  return { allowed: true, patch, denials: [], warnings: [] };
}

async function evaluateAll(images: ContainerImage[], evaluator: PolicyEvaluator, options: EvaluationOptions): Promise<Map<string, ImageDecision>> {
  const decisions = new Map<string, ImageDecision>();
  for (const { image } of images) {
    if (!decisions.has(image)) decisions.set(image, await evaluator.evaluate(image, options));
  }
  return decisions;
}

const LIST_NAMES = { initContainers: 'init container', containers: 'container', ephemeralContainers: 'ephemeral container' } as const;

export function describeContainerDenial({ container, decision }: AdmissionDenial): string {
  return `${LIST_NAMES[container.list]} "${container.container}": ${describeDenial(decision)}`;
}

/** Fail closed unless enforcement.failOpen: the registry could not say whether the images meet the policy. */
function undecided(cause: 'timeout' | Error, settings: AdmissionSettings): AdmissionOutcome {
  const why = cause === 'timeout'
    ? `the registry could not evaluate the image policy within ${settings.evaluationTimeoutMs / 1000} s (enforcement.evaluationTimeout)`
    : 'the registry could not evaluate the image policy (the error is in the registry\'s log)';
  const error = cause === 'timeout' ? {} : { error: cause };
  if (settings.failOpen) return { allowed: true, patch: [], denials: [], warnings: [`${why}; admitted unchecked because enforcement.failOpen is true`], ...error };
  return { allowed: false, message: `${why}: deploy again in a moment; if it persists, the registry operator checks the registry's health`, patch: [], denials: [], warnings: [], ...error };
}
