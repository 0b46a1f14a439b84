/** A state directory that cannot be loaded or is held by another writer; the message names the file (and line). */
export class StateFileError extends Error {
  override name = "StateFileError";
}
