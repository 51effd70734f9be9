/**
 * Loads each key's value once and keeps it; a load that failed is tried again next time rather
 * than remembered as broken.
 */
export function loadedOnce<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = load();
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}
