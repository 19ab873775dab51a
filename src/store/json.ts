/** JSON columns are text on both dialects; these keep the (de)serialisation in one place. */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function fromJson<T>(text: string | null | undefined, fallback: T): T {
  if (text == null) return fallback;
  return JSON.parse(text) as T;
}

export const nowIso = (): string => new Date().toISOString();
