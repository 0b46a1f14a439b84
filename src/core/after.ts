import type { MaybePromise } from "./store.js";

/** `then(value)`: at once when `value` is not a promise, else when it settles (a rejection passes through). */
export function after<T, R>(value: MaybePromise<T>, then: (value: T) => R): MaybePromise<R> {
  return value instanceof Promise ? value.then(then) : then(value);
}
