/**
 * An empty object without a prototype, for data keyed by user strings
 * (paths): `__proto__`, `toString` or `constructor` is then an own key like
 * any other, never the prototype setter or an inherited member. V8 keeps
 * such an object in dictionary mode, which fills fast (a new hidden class
 * per path otherwise: 4-5× slower for 100,000 objects of 4 paths each).
 */
export function dictionary<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * Whether `key` is an array index ("0" to "4294967294", no leading zero): a JS object lists such keys before all
 * others, in numeric order.
 */
export function isIndexKey(key: string): boolean {
  const first = key.charCodeAt(0);
  if (!(first >= 48 && first <= 57) || key.length > 10) return false;
  if (first === 48) return key.length === 1;
  for (let i = 1; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return Number(key) <= 4_294_967_294;
}

const codeUnitOrder: ProxyHandler<object> = {
  ownKeys: (target) => (Reflect.ownKeys(target) as string[]).sort(),
};

/**
 * A dictionary whose keys were added in code-unit order, as a value that
 * lists them in that order too. A JS object lists its array-index keys
 * ("9" before "10", both before "1a") first, in numeric order, whatever
 * order they were added in; when `hasIndexKey` (one of the keys is one,
 * see {@link isIndexKey}), `map` is wrapped in a Proxy whose own keys come
 * sorted by code unit, which JSON.stringify, Object.keys and for-in follow,
 * so every writer of the value writes that order. Without one (nearly
 * always), `map` itself, at no cost.
 */
export function inCodeUnitOrder<T>(map: Record<string, T>, hasIndexKey: boolean): Record<string, T> {
  return hasIndexKey ? (new Proxy(map, codeUnitOrder) as Record<string, T>) : map;
}
