import { z } from 'zod';

/**
 * Events out: CloudEvents 1.0, JSON structured mode (https://github.com/cloudevents/spec,
 * `spec.md` and `formats/json-format.md`). The required attributes are `specversion`, `id`,
 * `source`, `type`; Syncline always sets `subject` (the namespace, when there is one), `time` and
 * `datacontenttype: application/json`. Consumers dedupe by `id` (delivery is at least once).
 */
export const EVENT_TYPES = [
  'syncline.deployment.succeeded',
  'syncline.deployment.failed',
  'syncline.deployment.noop',
  'syncline.namespace.status_changed',
  'syncline.plan.completed',
  'syncline.delivery.failed',
  'syncline.mirror.updated',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An extension attribute name per the spec: lower-case a-z and digits, at most 20 characters. */
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;

export const cloudEventSchema = z
  .object({
    specversion: z.literal('1.0'),
    id: z.string().min(1),
    /** URI-reference identifying the context the event happened in. */
    source: z.string().min(1),
    type: z.string().min(1),
    subject: z.string().min(1).optional(),
    /** RFC 3339. */
    time: z.string().datetime({ offset: true }).optional(),
    datacontenttype: z.string().min(1).optional(),
    dataschema: z.string().url().optional(),
    data: z.unknown().optional(),
  })
  .catchall(z.unknown())
  .superRefine((e, ctx) => {
    for (const key of Object.keys(e)) {
      if (!['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'dataschema', 'data', 'data_base64'].includes(key) && !EXTENSION_NAME.test(key)) {
        ctx.addIssue({ code: 'custom', message: `'${key}' is not a valid CloudEvents attribute name`, path: [key] });
      }
    }
  });

export type CloudEvent = z.infer<typeof cloudEventSchema>;

/** `syncline.namespace.status_changed` data. */
export const statusChangedDataSchema = z.object({ namespace: z.string(), from: z.string(), to: z.string() });
