/** Outbound webhook subscriptions (API.md "Events out"). The secret is shown once, at creation. */
import { z } from 'zod';
import { namespacePattern } from './tokens.js';

export const eventTypePattern = z
  .string()
  .max(100)
  .regex(/^syncline\.[a-z_]+(\.[a-z_]+)*(\.\*)?$|^syncline\.\*$|^\*$/, "an event type, or a prefix ending in '.*' (e.g. syncline.deployment.*)");

/** `whsec_` + base64 of 24..64 random bytes (Standard Webhooks). */
export const webhookSecret = z.string().regex(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, 'must be whsec_ followed by base64 of 24 to 64 bytes');

export const subscriptionCreateBody = z
  .object({
    url: z.string().min(1).max(2048),
    types: z.array(eventTypePattern).min(1).max(50).optional(),
    namespaces: z.array(namespacePattern).min(1).max(100).optional(),
    secret: webhookSecret.optional(),
  })
  .strict();

export const subscription = z.object({
  id: z.string(),
  url: z.string(),
  types: z.array(z.string()),
  namespaces: z.array(z.string()),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable(),
  created_at: z.string(),
  created_by: z.string(),
});
export type Subscription = z.infer<typeof subscription>;

export const subscriptionCreated = subscription.extend({ secret: z.string() });
export const subscriptionList = z.object({ items: z.array(subscription) });
export const subscriptionParams = z.object({ id: z.string().min(1).max(100) });

export const subscriptionDelivery = z.object({
  id: z.number(),
  event_id: z.string(),
  type: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number(),
  next_attempt_at: z.string().nullable(),
  last_status: z.number().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  delivered_at: z.string().nullable(),
});
export type SubscriptionDelivery = z.infer<typeof subscriptionDelivery>;
export const subscriptionDeliveryList = z.object({ items: z.array(subscriptionDelivery) });
