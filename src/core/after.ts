import type { MaybePromise } from "./store.js";

/**
 * `then(value)`: at once when `value` is not a promise (no allocation beyond the call), else when it fulfils (a
 * rejection passes through).
 */
export function after<T, R>(value: MaybePromise<T>, then: (value: T) => R): R | Promise<Awaited<R>> {
  return value instanceof Promise ? (value.then(then) as Promise<Awaited<R>>) : then(value);
}
