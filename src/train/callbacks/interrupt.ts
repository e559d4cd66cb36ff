/**
 * Ctrl-C during training: the first SIGINT asks the trainer to stop after the current update
 * (which takes a checkpoint), a second one quits at once (exit code 130).
 */
import type { TrainCallback, TrainerView } from './types.ts';

/** Turns SIGINT into a clean stop for the length of fit(). */
export class InterruptGuard implements TrainCallback {
  private requested = false;
  private handler: (() => void) | null = null;

  /** Installs the SIGINT handler. */
  onFitStart(trainer: TrainerView): void {
    this.requested = false;
    this.handler = () => {
      if (this.requested) process.exit(130);
      this.requested = true;
      trainer.requestStop();
      trainer.log('interrupt: saving a checkpoint after the current update (press Ctrl-C again to quit at once)');
    };
    process.on('SIGINT', this.handler);
  }

  /** Lets a pending SIGINT reach its handler before the trainer decides whether to go on. */
  async onStepEnd(): Promise<void> {
    // Batches built on this thread resolve as microtasks only: yield to the event loop so a
    // pending signal handler runs before the next update.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Removes the handler. */
  onFitEnd(): void {
    if (this.handler) process.off('SIGINT', this.handler);
    this.handler = null;
  }
}
