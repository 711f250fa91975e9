import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { WORKLOAD_KINDS } from '../../src/enforcement/admission-review.js';
import { loadConfig } from '../../src/config/load.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'kubernetes');
const load = (file: string) => parseAllDocuments(readFileSync(path.join(dir, file), 'utf8')).map((d) => d.toJS() as Record<string, any>);

/** The resource each kind Wharf reads is served as. */
const RESOURCES: Record<string, string> = {
  Pod: '/pods', ReplicationController: '/replicationcontrollers', Deployment: 'apps/deployments', StatefulSet: 'apps/statefulsets',
  DaemonSet: 'apps/daemonsets', ReplicaSet: 'apps/replicasets', Job: 'batch/jobs', CronJob: 'batch/cronjobs',
};

describe('Kubernetes webhook manifests (deploy/kubernetes)', () => {
  for (const [file, kind, path] of [['mutating-webhook.yaml', 'MutatingWebhookConfiguration', '/admission/mutate'], ['validating-webhook.yaml', 'ValidatingWebhookConfiguration', '/admission/validate']] as const) {
    it(`${file}: v1 reviews to ${path}, every workload kind, fail closed with a timeout above Wharf's own deadline`, () => {
      const [doc] = load(file);
      assert.deepEqual([doc!.apiVersion, doc!.kind], ['admissionregistration.k8s.io/v1', kind]);
      const [hook] = doc!.webhooks as Array<Record<string, any>>;
      assert.deepEqual(hook!.admissionReviewVersions, ['v1']);
      assert.equal(new URL(hook!.clientConfig.url).pathname, path);
      assert.match(readFileSync(`${dir}/${file}`, 'utf8'), new RegExp(`# service: .* path: ${path} }`), 'the in-cluster alternative names the same path');
      assert.equal(hook!.failurePolicy, 'Fail');
      assert.equal(hook!.sideEffects, 'NoneOnDryRun');
      const evaluationTimeout = loadConfig({ env: {} }).enforcement.evaluationTimeout;
      assert.ok(hook!.timeoutSeconds <= 30 && hook!.timeoutSeconds > evaluationTimeout, 'the API server waits longer than Wharf decides');
      const covered = new Set((hook!.rules as Array<{ apiGroups: string[]; resources: string[]; operations: string[] }>).flatMap((r) => {
        assert.deepEqual(r.operations, ['CREATE', 'UPDATE']);
        return r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`));
      }));
      for (const workload of WORKLOAD_KINDS) assert.ok(covered.has(RESOURCES[workload]!), `${workload} is sent to the webhook`);
      assert.ok(covered.has('/pods/ephemeralcontainers'), 'kubectl debug containers are judged too');
      if (kind === 'MutatingWebhookConfiguration') assert.equal(hook!.reinvocationPolicy, 'IfNeeded');
    });
  }

  it('admission-configuration.yaml gives both webhook plugins the kubeconfig whose user carries the API key', () => {
    const [admission, kubeconfig] = load('admission-configuration.yaml');
    assert.equal(admission!.kind, 'AdmissionConfiguration');
    assert.deepEqual(admission!.plugins.map((p: { name: string }) => p.name).sort(), ['MutatingAdmissionWebhook', 'ValidatingAdmissionWebhook']);
    for (const plugin of admission!.plugins) assert.equal(plugin.configuration.kubeConfigFile, '/etc/kubernetes/admission/wharf-kubeconfig.yaml');
    const [mutating] = load('mutating-webhook.yaml');
    assert.equal(kubeconfig!.users[0].name, new URL(mutating!.webhooks[0].clientConfig.url).host, 'the user is matched by the webhook\'s host:port');
    assert.match(kubeconfig!.users[0].user.token, /^wharf_/);
  });
});
