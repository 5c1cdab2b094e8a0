/** Reads a JSON text value (the store keeps JSON as text), tolerating null and empty. */
export function fromJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  return JSON.parse(text) as T;
}
