/**
 * An empty object in V8's dictionary mode. Objects keyed by paths get a new
 * hidden class for every key in fast mode; measured 4-5× faster to fill in
 * dictionary mode (250 → 60 ms for 100,000 objects of 4 paths each).
 */
export function dictionary<T>(): Record<string, T> {
  const object: Record<string, unknown> = { unused: 0 };
  delete object.unused;
  return object as Record<string, T>;
}
