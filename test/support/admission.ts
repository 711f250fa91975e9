import { randomUUID } from 'node:crypto';

/**
 * AdmissionReview v1 requests in the shapes kube-apiserver sends them (Kubernetes "Dynamic Admission
 * Control": request.kind/resource/requestKind as GroupVersionKind/Resource, userInfo, options, dryRun;
 * object is the full object with the defaults the API server filled in; oldObject null on CREATE).
 */

export type WorkloadKind = 'Pod' | 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'ReplicationController' | 'Job' | 'CronJob';

const KINDS: Record<WorkloadKind, { group: string; version: string; resource: string }> = {
  Pod: { group: '', version: 'v1', resource: 'pods' },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments' },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  ReplicaSet: { group: 'apps', version: 'v1', resource: 'replicasets' },
  ReplicationController: { group: '', version: 'v1', resource: 'replicationcontrollers' },
  Job: { group: 'batch', version: 'v1', resource: 'jobs' },
  CronJob: { group: 'batch', version: 'v1', resource: 'cronjobs' },
};

export const WORKLOAD_KINDS = Object.keys(KINDS) as WorkloadKind[];

export interface PodSpecInput {
  containers: Array<{ name: string; image: string }>;
  initContainers?: Array<{ name: string; image: string }>;
  ephemeralContainers?: Array<{ name: string; image: string }>;
}

/** A container as the API server has defaulted it. */
function container(c: { name: string; image: string }) {
  return {
    name: c.name, image: c.image, resources: {},
    terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
    imagePullPolicy: c.image.includes('@') || !c.image.endsWith(':latest') ? 'IfNotPresent' : 'Always',
  };
}

function podSpec(input: PodSpecInput, restartPolicy = 'Always') {
  return {
    ...(input.initContainers ? { initContainers: input.initContainers.map(container) } : {}),
    containers: input.containers.map(container),
    ...(input.ephemeralContainers ? { ephemeralContainers: input.ephemeralContainers.map((c) => ({ ...container(c), targetContainerName: input.containers[0]!.name })) } : {}),
    restartPolicy, terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', serviceAccountName: 'default',
    securityContext: {}, schedulerName: 'default-scheduler', enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority', priority: 0,
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
  };
}

const template = (input: PodSpecInput, restartPolicy?: string) => ({ metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: podSpec(input, restartPolicy) });

/** The object of `kind` whose pod spec holds these containers, as stored after defaulting. */
export function workload(kind: WorkloadKind, input: PodSpecInput, name = 'web', namespace = 'shop'): Record<string, unknown> {
  const { group, version } = KINDS[kind];
  const metadata = { name, namespace, uid: randomUUID(), creationTimestamp: null, labels: { app: 'web' }, managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: group ? `${group}/${version}` : version }] };
  const head = { apiVersion: group ? `${group}/${version}` : version, kind, metadata };
  const selector = { matchLabels: { app: 'web' } };
  switch (kind) {
    case 'Pod': return { ...head, spec: podSpec(input), status: {} };
    case 'Deployment': return { ...head, spec: { replicas: 1, selector, template: template(input), strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 }, status: {} };
    case 'StatefulSet': return { ...head, spec: { replicas: 1, selector, template: template(input), serviceName: 'web', podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, revisionHistoryLimit: 10 }, status: { replicas: 0, availableReplicas: 0 } };
    case 'DaemonSet': return { ...head, spec: { selector, template: template(input), updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, revisionHistoryLimit: 10 }, status: { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 } };
    case 'ReplicaSet': return { ...head, spec: { replicas: 1, selector, template: template(input) }, status: { replicas: 0 } };
    case 'ReplicationController': return { ...head, spec: { replicas: 1, selector: { app: 'web' }, template: template(input) }, status: { replicas: 0 } };
    case 'Job': return { ...head, spec: { parallelism: 1, completions: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, template: template(input, 'Never') }, status: {} };
    case 'CronJob': return { ...head, spec: { schedule: '*/5 * * * *', concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, jobTemplate: { metadata: { creationTimestamp: null }, spec: { template: template(input, 'OnFailure') } } }, status: {} };
  }
}

export interface ReviewOptions {
  operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  oldObject?: Record<string, unknown> | null;
  subResource?: string;
  dryRun?: boolean;
  uid?: string;
}

/** The AdmissionReview kube-apiserver posts for an operation on `object`. */
export function admissionReview(kind: WorkloadKind, object: Record<string, unknown> | null, options: ReviewOptions = {}): { apiVersion: string; kind: string; request: Record<string, unknown> } {
  const { group, version, resource } = KINDS[kind];
  const operation = options.operation ?? 'CREATE';
  const metadata = (object?.metadata ?? options.oldObject?.metadata ?? {}) as { name?: string; namespace?: string };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? randomUUID(),
      kind: { group, version, kind },
      resource: { group, version, resource },
      ...(options.subResource ? { subResource: options.subResource, requestSubResource: options.subResource } : {}),
      requestKind: { group, version, kind },
      requestResource: { group, version, resource },
      name: metadata.name ?? '',
      namespace: metadata.namespace ?? 'shop',
      operation,
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object: operation === 'DELETE' ? null : object,
      oldObject: options.oldObject ?? null,
      dryRun: options.dryRun ?? false,
      options: { kind: `${operation === 'CREATE' ? 'Create' : operation === 'UPDATE' ? 'Update' : 'Delete'}Options`, apiVersion: 'meta.k8s.io/v1', ...(operation === 'DELETE' ? {} : { fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' }) },
    },
  };
}
