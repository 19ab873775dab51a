import { SynclineError } from '../errors.js';
import type { ResourceEvent } from '../events/hub.js';
import { declaredLeafPaths } from '../plan/diff.js';
import { contentHash } from '../plan/hash.js';
import { validateSpec } from '../specs/kinds.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';
import { cloneJson, deleteOwn, getOwn, isJsonObject, setOwn } from '../specs/json.js';
import { normalizeSpec } from '../specs/normalize.js';
import { getAt, parsePointer } from '../specs/pointer.js';
import type { AppContext } from '../app-context.js';
import { recordAudit } from '../store/audit.js';
import { nowIso } from '../store/json.js';
import { getResource, upsertResource, type LiveResource } from '../store/resources.js';
import { loadKindRegistry } from './kind-registry.js';
import { withNamespaceLock } from './service.js';

/**
 * Whether patching `path` touches the git-managed `managed`: the path itself, an ancestor of it,
 * or something below it — except below a presence leaf (git declared an empty mapping, see
 * plan/diff.ts): git manages that the mapping exists, not what is inside it. A managed path whose
 * live value is a mapping can only be such a leaf.
 */
function clashes(path: string, managed: string, live: JsonObject): boolean {
  if (path === managed || managed.startsWith(`${path}/`)) return true;
  return path.startsWith(`${managed}/`) && !isJsonObject(getAt(live, parsePointer(managed)));
}

/** RFC 7386 merge patch: objects merge, `null` removes a key, anything else replaces. */
function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return patch;
  const base: JsonObject = isJsonObject(target) ? cloneJson(target) : {};
  for (const k of Object.keys(patch)) {
    const v = patch[k] as JsonValue;
    if (v === null) deleteOwn(base, k);
    else setOwn(base, k, mergePatch(getOwn(base, k), v));
  }
  return base;
}

/**
 * Changes fields of a live resource that git does not manage. Touching a git-managed field is a
 * `field_managed_by_git`: the fix for those is a commit. The merged spec must pass the kind's schema. Serialised
 * with syncs of the namespace (`sync_in_progress` when one holds it too long).
 */
export async function patchResource(
  app: AppContext,
  ref: { namespace: string; kind: string; name: string },
  patch: JsonObject,
  actor: string,
): Promise<LiveResource> {
  const db = app.db.db;
  const registry = await loadKindRegistry(db);
  // Under the sync lock: a PATCH landing between a sync's plan and its apply would be lost.
  const { resource, event } = await withNamespaceLock(app, ref.namespace, () => db.transaction().execute(async (tx) => {
    const live = await getResource(tx, ref.namespace, ref.kind, ref.name);
    const touched = declaredLeafPaths({ spec: patch });
    const doc = { spec: live.spec, metadata: live.metadata } as JsonObject;
    const managed = touched.filter((p) => live.managed_fields.some((m) => clashes(p, m, doc)));
    if (managed.length) {
      throw new SynclineError('field_managed_by_git', `Field(s) ${managed.join(', ')} are managed by git; change them with a commit`, {
        fields: managed,
      });
    }
    let spec = mergePatch(live.spec as JsonObject, patch) as JsonObject;
    const kind = registry.get(ref.kind);
    if (kind) {
      // Same rule as a sync: defaults and equivalents first, then the schema.
      spec = normalizeSpec(kind, spec);
      const errors = validateSpec(kind, spec);
      if (errors.length) {
        throw new SynclineError('invalid_spec', `Patched spec fails kind '${ref.kind}': ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, {
          errors,
        });
      }
    }
    const hash = contentHash({ kind: ref.kind, name: ref.name, spec, metadata: live.metadata });
    await upsertResource(
      tx,
      ref.namespace,
      { kind: ref.kind, name: ref.name, spec, metadata: live.metadata, hash, managed_fields: live.managed_fields, file: live.file, commit: live.commit },
      true,
    );
    await recordAudit(tx, {
      actor,
      action: 'resource.patch',
      target: `resource/${ref.namespace}/${ref.kind}/${ref.name}`,
      namespace: ref.namespace,
      details: { before_hash: live.hash, after_hash: hash, fields: touched },
    });
    const at = nowIso();
    const event: ResourceEvent = { namespace: ref.namespace, operation: 'update', kind: ref.kind, name: ref.name, hash, commit: live.commit, deployment: null, at };
    return { resource: { ...live, spec, hash, updated_at: at }, event };
  })).finally(() => app.cache.invalidate('resources', ref.namespace));
  app.events.publish([event]);
  return resource;
}
