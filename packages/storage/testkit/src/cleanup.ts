/**
 * What a test made on the host, undone in reverse order: every fixture
 * registers its undo step as soon as the thing exists, so a failure half
 * way still removes everything made before it.
 */
export class CleanupStack {
  private readonly steps: Array<{ what: string; fn: () => Promise<void> | void }> = [];

  add(what: string, fn: () => Promise<void> | void): void {
    this.steps.push({ what, fn });
  }

  /** Runs every step (newest first), keeps going on failures, and returns what failed. */
  async run(): Promise<string[]> {
    const failures: string[] = [];
    while (this.steps.length) {
      const s = this.steps.pop()!;
      try {
        await s.fn();
      } catch (err) {
        failures.push(`${s.what}: ${(err as Error).message}`);
      }
    }
    return failures;
  }
}
