/**
 * JSON-shaped values as the API, the store and the spec layer exchange them. Schemas for output
 * values do not re-validate content (specs can be large; they were validated when written).
 */
import { z } from 'zod';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Any JSON value (typed, not re-checked; OpenAPI shows it as "any"). */
export const jsonValue = z.custom<JsonValue>();
/** A JSON object (checked to be an object; its values are typed, not re-checked). */
export const jsonObject = z.record(z.string(), jsonValue);
