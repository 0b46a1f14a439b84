// How a Harn host names the methods served here, in the envelopes it
// forwards (builtin_call, host/call). Apart from methods.ts, which
// re-exports them, so that the client can use them without zod.

/** How a Harn VM's host bridge names a method served here, in builtin_call: `hostlib_code_index_<method>`. */
export const BUILTIN_PREFIX = "hostlib_code_index_";

/** How a script's host_call names one, in host/call: `code_index.<method>`. */
export const HOST_CALL_PREFIX = "code_index.";
