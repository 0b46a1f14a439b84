/** Whether a --state value names PostgreSQL state (a postgres:// or postgresql:// URL) rather than a directory. */
export function isPostgresUrl(state: string): boolean {
  return /^postgres(ql)?:\/\//i.test(state);
}

/** A PostgreSQL URL as it may be logged: its password, in the user part or a `password=` parameter, as `***`. */
export function hidePassword(url: string): string {
  let shown = url;
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") {
      parsed.password = "***";
      shown = parsed.href;
    }
  } catch {
    // Not a URL the WHATWG parser takes (a raw "/" in the password): hide everything up to the last "@".
    shown = url.replace(/\/\/.*@/s, "//***@");
  }
  // Every query parameter whose name, decoded as libpq decodes it, names a password (sslpassword, %70assword...).
  return shown.replace(/([?&])([^=&#]*)=([^&#]*)/g, (whole, separator: string, name: string) =>
    /password/i.test(decodedName(name)) ? `${separator}${name}=***` : whole,
  );
}

/** A query parameter's name, percent-decoded (as given when it does not decode). */
function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, " "));
  } catch {
    return name;
  }
}
