// The real Identity (store/identity.ts), counting its token checks and able to
// hold their answers back: for tests of the proxy's credential cache.
import { Identity, type Principal } from '../../../store/index.ts';

/**
 * The real Identity, counting token checks. While `hold` is set, checks that
 * begin get their answer from the database and then wait for it; `answered`
 * resolves when the first such answer is in.
 */
export class CountingIdentity extends Identity {
  checks = 0;
  /** Checks whose answer has been handed back to the caller. */
  finished = 0;
  /** Date.now() of every check's start. */
  readonly startedAt: number[] = [];
  hold: Promise<void> | undefined;
  #answered: (() => void) | undefined;
  answered: Promise<void> = Promise.resolve();

  holdAnswers(): () => void {
    let release!: () => void;
    this.hold = new Promise((r) => {
      release = r;
    });
    this.answered = new Promise((r) => {
      this.#answered = r;
    });
    return release;
  }

  override async verifyToken(token: string): Promise<Principal | undefined> {
    this.checks++;
    this.startedAt.push(Date.now());
    const hold = this.hold;
    const answer = await super.verifyToken(token);
    this.#answered?.();
    await hold;
    this.finished++;
    return answer;
  }
}
