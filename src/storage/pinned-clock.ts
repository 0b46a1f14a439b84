/**
 * The registry's clock under a journal: the live time, except while an
 * operation runs (or is replayed), when it stays at the time written into
 * that operation's entry, so the replay sees exactly what the live call saw.
 */
export class PinnedClock {
  private pinned: number | undefined;

  constructor(private readonly live: () => number) {}

  readonly now = (): number => this.pinned ?? this.live();

  get isPinned(): boolean {
    return this.pinned !== undefined;
  }

  pin(t: number): void {
    this.pinned = t;
  }

  unpin(): void {
    this.pinned = undefined;
  }
}
