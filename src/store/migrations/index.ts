import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { m001Initial } from './001-initial.js';
import { m003SourceNamespaces } from './003-source-namespaces.js';
import { m004JobsWebhooks } from './004-jobs-webhooks.js';
import { m002MirrorErrorCode } from './002-mirror-error-code.js';
import { m005Sessions } from './005-sessions.js';
import { m008Outbox } from './008-outbox.js';
import { m081Subscriptions } from './081-subscriptions.js';
import { m082Replicas } from './082-replicas.js';
import { m091NamespacesSourceBranch } from './091-namespaces-source-branch.js';
import { m131MirrorCopies } from './131-mirror-copies.js';
import { m121LiveGeneration } from './121-live-generation.js';
import { m006SpecsKubernetes } from './006-specs-kubernetes.js';

export type Dialect = 'sqlite' | 'postgres';

/** Migrations in order. Names are permanent: never rename or edit one that has shipped. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '001-initial': {
          up: (db: Kysely<any>) => m001Initial(db, dialect),
        },
        '004-jobs-webhooks': {
          up: (db: Kysely<any>) => m004JobsWebhooks(db, dialect),
        },
        '002-mirror-error-code': { up: (db: Kysely<any>) => m002MirrorErrorCode(db) },
        '005-sessions': { up: (db: Kysely<any>) => m005Sessions(db) },
        '008-outbox': { up: (db: Kysely<any>) => m008Outbox(db, dialect) },
        '003-source-namespaces': {
          up: (db: Kysely<any>) => m003SourceNamespaces(db),
        },
        '081-subscriptions': { up: (db: Kysely<any>) => m081Subscriptions(db, dialect) },
        '082-replicas': { up: (db: Kysely<any>) => m082Replicas(db) },
        '091-namespaces-source-branch': { up: (db: Kysely<any>) => m091NamespacesSourceBranch(db) },
        '131-mirror-copies': { up: (db: Kysely<any>) => m131MirrorCopies(db) },
        '121-live-generation': { up: (db: Kysely<any>) => m121LiveGeneration(db, dialect) },
        '006-specs-kubernetes': {
          up: (db: Kysely<any>) => m006SpecsKubernetes(db),
        },
      };
    },
  };
}
