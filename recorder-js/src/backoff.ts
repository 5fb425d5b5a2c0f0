// Exponential backoff with full jitter: delay = random(0, min(cap, base * 2^attempt)).

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs = 500,
    private readonly capMs = 30000,
  ) {}

  /** Delay before the next try; `slow` (rate limited) waits at least 5 s and up to 2 min. */
  next(slow = false): number {
    const exp = Math.min(this.capMs, this.baseMs * Math.pow(2, Math.min(this.attempt, 16)));
    this.attempt++;
    if (slow) return 5000 + Math.random() * Math.max(exp, 10000) * 4;
    return Math.random() * exp;
  }

  reset(): void {
    this.attempt = 0;
  }
}
