import type { DomainErrorName } from "../../protocol/errors.js";

/** Bad input to a core operation: the server answers -32602 naming `field`. Nothing was changed. */
export class InvalidInputError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field} ${problem}`);
    this.name = "InvalidInputError";
  }
}

/** A documented domain error (see protocol/errors.ts). Nothing was changed. */
export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorName,
    message: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

/** A zod issue path as a field name: `["snapshot", "agents", 3, "id"]` → `snapshot.agents[3].id`. */
export function fieldName(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (typeof part === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += out === "" ? part : `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}
