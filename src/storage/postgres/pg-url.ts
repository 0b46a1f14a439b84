import type { ClientConfig } from "pg";

/** The libpq variables node-postgres does not read itself, and the URL parameter each stands for. */
const SSL_VARIABLES = { PGSSLMODE: "sslmode", PGSSLROOTCERT: "sslrootcert", PGSSLCERT: "sslcert", PGSSLKEY: "sslkey" };

/**
 * The node-postgres configuration for a `postgres://` or `postgresql://`
 * URL, read by libpq's rules. node-postgres takes user, password, host,
 * port and database from the URL, else from PGUSER, PGPASSWORD, PGHOST,
 * PGPORT, PGDATABASE, and the password from ~/.pgpass (or PGPASSFILE) when
 * there is none. Here the SSL variables join the URL when it has no such
 * parameter, and `uselibpqcompat=true` gives `sslmode` libpq's meaning
 * (`require`: encrypt without verifying; `verify-ca`; `verify-full`).
 * node-postgres cannot fall back from one mode to another: `prefer`
 * always encrypts, and `allow` is read as `disable`. Throws when the URL is
 * not a PostgreSQL one.
 */
export function clientConfig(url: string, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new Error("the state URL must start with postgres:// or postgresql://");
  const hash = url.indexOf("#");
  const bare = hash === -1 ? url : url.slice(0, hash);
  const query = bare.indexOf("?");
  const params = new URLSearchParams(query === -1 ? "" : bare.slice(query + 1));
  const added = new URLSearchParams();
  for (const [variable, param] of Object.entries(SSL_VARIABLES)) {
    const value = env[variable];
    if (value !== undefined && value !== "" && !params.has(param)) added.set(param, value);
  }
  // A parameter given twice counts as its last value.
  if ((added.get("sslmode") ?? params.get("sslmode")) === "allow") added.set("sslmode", "disable");
  if (!params.has("uselibpqcompat")) added.set("uselibpqcompat", "true");
  const joiner = query === -1 ? "?" : /[?&]$/.test(bare) ? "" : "&";
  return { connectionString: `${bare}${joiner}${added.toString()}`, fallback_application_name: "harn-registry" };
}
