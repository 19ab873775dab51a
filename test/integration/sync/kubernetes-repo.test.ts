/**
 * A repository laid out like argocd-example-apps (our own files in that shape): a guestbook
 * folder with a Deployment and a Service, a Helm chart folder, a kustomization, a .github
 * folder. With a .synclineignore, plan and sync work unchanged on upstream-style YAML, using the
 * kinds generated from the Kubernetes OpenAPI (examples/kinds/kubernetes, loaded with
 * `syncline kind import`); skipped files are listed with their rule. Real git over HTTP.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { runCli } from '../../helpers/cli.js';
import { api, createSource, expectError, makeSyncApp, namedToken, ok, planReq, putNamespace, resource, ROOT, sync, y } from './support.js';

const DEPLOYMENT = y(
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata:',
  '  name: guestbook-ui',
  '  annotations:',
  '    argocd.argoproj.io/sync-wave: "1"',
  'spec:',
  '  replicas: 1',
  '  revisionHistoryLimit: 3',
  '  selector:',
  '    matchLabels:',
  '      app: guestbook-ui',
  '  template:',
  '    metadata:',
  '      labels:',
  '        app: guestbook-ui',
  '    spec:',
  '      containers:',
  '      - image: gcr.io/heptio-images/ks-guestbook-demo:0.2',
  '        name: guestbook-ui',
  '        ports:',
  '        - containerPort: 80',
);
const SERVICE = y(
  'apiVersion: v1',
  'kind: Service',
  'metadata:',
  '  name: guestbook-ui',
  'spec:',
  '  ports:',
  '  - port: 80',
  '    targetPort: 80',
  '  selector:',
  '    app: guestbook-ui',
);
const HELM_DEPLOYMENT = y(
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata:',
  '  name: {{ template "helm-guestbook.fullname" . }}',
  'spec:',
  '  replicas: {{ .Values.replicaCount }}',
);
const IGNORE = y(
  '# Rendered by their tools (helm template / kustomize build), not read as specs:',
  'helm-guestbook/',
  'kustomize-guestbook/',
  '.github/',
);

for (const dialect of DIALECTS) {
  describe(`${dialect}: an argocd-example-apps style repository`, () => {
    let t: TestApp;
    let server: GitHttpServer;
    let env: Record<string, string>;
    let repo: FixtureRepo;

    beforeAll(async () => {
      t = await makeSyncApp(dialect);
      const root = await tempDir('syncline-upstream-');
      repo = await makeRepo({ root, name: 'apps' });
      await commitFiles(
        repo,
        {
          'guestbook/guestbook-ui-deployment.yaml': DEPLOYMENT,
          'guestbook/guestbook-ui-svc.yaml': SERVICE,
          'helm-guestbook/Chart.yaml': y('apiVersion: v1', 'appVersion: "1.0"', 'name: helm-guestbook', 'version: 0.1.0'),
          'helm-guestbook/values.yaml': y('replicaCount: 1', 'image:', '  repository: gcr.io/heptio-images/ks-guestbook-demo'),
          'helm-guestbook/values-production.yaml': y('replicaCount: 3'),
          'helm-guestbook/templates/deployment.yaml': HELM_DEPLOYMENT,
          'helm-guestbook/templates/_helpers.tpl': '{{- define "helm-guestbook.name" -}}x{{- end -}}\n',
          'kustomize-guestbook/kustomization.yaml': y('namePrefix: kustomize-', 'resources:', '- guestbook-ui-deployment.yaml', '- guestbook-ui-svc.yaml'),
          'kustomize-guestbook/guestbook-ui-deployment.yaml': DEPLOYMENT,
          'kustomize-guestbook/guestbook-ui-svc.yaml': SERVICE,
          '.github/workflows/ci.yaml': y('on: push', 'jobs: {}'),
          'README.md': '# apps\n',
        },
        'upstream layout',
      );
      server = await serveGitHttp(root);
      await createSource(t, 'apps', server.repoUrl('apps'));
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      env = { SYNCLINE_URL: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`, SYNCLINE_TOKEN: await namedToken(t, 'k8s-admin', 'admin') };
      const imported = await runCli(['kind', 'import', path.join(ROOT, 'examples/kinds/kubernetes'), '--output', 'json'], env);
      expect(imported.code, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout).items.map((k: any) => k.name)).toEqual(['ConfigMap', 'Deployment.apps', 'Service']);
    });

    afterAll(async () => {
      await server?.close();
      await t?.close();
      await cleanupTempDirs();
    });

    it('without an ignore file the Helm templates and values make the plan invalid — nothing is skipped by magic', async () => {
      await putNamespace(t, 'apps.raw', { source: 'apps', path: '' });
      const plan = ok(await planReq(t, 'apps.raw'));
      expect(plan.skipped_files).toEqual([]);
      expect(plan.summary.invalid).toBeGreaterThan(0);
      expect(plan.results.some((r: any) => r.file === 'helm-guestbook/templates/deployment.yaml' && r.operation === 'invalid')).toBe(true);
      expect(plan.results.some((r: any) => r.file === 'helm-guestbook/Chart.yaml' && r.operation === 'invalid')).toBe(true);
    });

    it('with exclude globs for one folder, plan and sync work and the skipped files are listed with their rule', async () => {
      await putNamespace(t, 'apps.kustomize', { source: 'apps', path: 'kustomize-guestbook', exclude: ['kustomization.yaml'] });
      const plan = ok(await planReq(t, 'apps.kustomize'));
      expect(plan.skipped_files).toEqual([{ path: 'kustomize-guestbook/kustomization.yaml', rule: 'exclude: kustomization.yaml' }]);
      expect(plan.summary).toMatchObject({ create: 2, invalid: 0 });
      const dep = await sync(t, 'apps.kustomize');
      expect(dep).toMatchObject({ status: 'success', skipped_files: plan.skipped_files });
    });

    it('with a .synclineignore at the namespace path, upstream-style YAML plans and syncs unchanged', async () => {
      // The ignore file is read from git at the commit: without it, invalid; then add it.
      await putNamespace(t, 'apps.guestbook', { source: 'apps', path: '' });
      const before = ok(await planReq(t, 'apps.guestbook'));
      expect(before.summary.invalid).toBeGreaterThan(0);

      await commitFiles(repo, { '.synclineignore': IGNORE }, 'ignore rendered folders');
      const plan = ok(await planReq(t, 'apps.guestbook'));
      expect(plan.summary).toEqual({ create: 2, update: 0, delete: 0, noop: 0, invalid: 0 });
      expect(plan.results.map((r: any) => `${r.operation} ${r.kind}/${r.name} ${r.file}`)).toEqual([
        'create Deployment.apps/guestbook-ui guestbook/guestbook-ui-deployment.yaml',
        'create Service/guestbook-ui guestbook/guestbook-ui-svc.yaml',
      ]);
      expect(plan.skipped_files).toEqual([
        { path: '.github/workflows/ci.yaml', rule: '.synclineignore: .github/' },
        { path: 'helm-guestbook/Chart.yaml', rule: '.synclineignore: helm-guestbook/' },
        { path: 'helm-guestbook/templates/deployment.yaml', rule: '.synclineignore: helm-guestbook/' },
        { path: 'helm-guestbook/values-production.yaml', rule: '.synclineignore: helm-guestbook/' },
        { path: 'helm-guestbook/values.yaml', rule: '.synclineignore: helm-guestbook/' },
        { path: 'kustomize-guestbook/guestbook-ui-deployment.yaml', rule: '.synclineignore: kustomize-guestbook/' },
        { path: 'kustomize-guestbook/guestbook-ui-svc.yaml', rule: '.synclineignore: kustomize-guestbook/' },
        { path: 'kustomize-guestbook/kustomization.yaml', rule: '.synclineignore: kustomize-guestbook/' },
      ]);
      const dep = await sync(t, 'apps.guestbook');
      expect(dep.status).toBe('success');
      const live = await resource(t, 'apps.guestbook', 'Deployment.apps', 'guestbook-ui');
      expect(live.metadata).toEqual({ apiVersion: 'apps/v1', annotations: { 'argocd.argoproj.io/sync-wave': '1' } });
      expect(live.spec).toMatchObject({ replicas: 1, revisionHistoryLimit: 3, selector: { matchLabels: { app: 'guestbook-ui' } } });
      const svc = await resource(t, 'apps.guestbook', 'Service', 'guestbook-ui');
      expect(svc.spec).toMatchObject({ ports: [{ port: 80, targetPort: 80 }] });
      // A second sync is a no-op.
      expect((await sync(t, 'apps.guestbook')).status).toBe('noop');
    });

    it('a kind from a CRD with x-kubernetes-* keywords is imported by the CLI and used by the documents of its group', async () => {
      const crdFile = path.join(await tempDir('syncline-crd-'), 'widgets.yaml');
      fs.writeFileSync(
        crdFile,
        y(
          'apiVersion: apiextensions.k8s.io/v1',
          'kind: CustomResourceDefinition',
          'metadata: {name: deployments.example.com}',
          'spec:',
          '  group: example.com',
          '  names: {kind: Deployment, plural: deployments}',
          '  scope: Namespaced',
          '  versions:',
          '    - name: v1',
          '      served: true',
          '      storage: true',
          '      schema:',
          '        openAPIV3Schema:',
          '          type: object',
          '          properties:',
          '            spec:',
          '              type: object',
          '              properties:',
          '                size: {x-kubernetes-int-or-string: true}',
          '                config: {type: object, x-kubernetes-preserve-unknown-fields: true}',
        ),
      );
      const imported = await runCli(['kind', 'import', crdFile], env);
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toContain('Kind Deployment.example.com saved');
      const kinds = JSON.parse((await runCli(['kind', 'list', '-o', 'json'], env)).stdout).items;
      expect(kinds.find((k: any) => k.name === 'Deployment.example.com')).toMatchObject({ api_versions: ['example.com/v1'] });
      expect(kinds.find((k: any) => k.name === 'Deployment.apps')).toMatchObject({ api_versions: ['apps/v1'] });
      expectError(await api(t, 'PUT', '/kinds/Gadget', { crd: fs.readFileSync(crdFile, 'utf8') }), 400, 'invalid_kind');
    });
  });
}

