import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';

/** Every this often, folders left by a crashed run are removed. */
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/**
 * One folder of uploaded files per task, `<dataDir>/uploads/<taskId>/` (CONTRACT section 4).
 * A sync call's folder lives as long as the call, an async task's until the task ends; the
 * sweeper removes the folders a crashed run left behind.
 */
export class UploadFolders {
  readonly root: string;
  /** Folders this process created and has not removed yet: in use, never swept. */
  private readonly inUse = new Set<string>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    dataDir: string,
    private readonly logger: Logger,
  ) {
    this.root = path.join(dataDir, 'uploads');
  }

  /** Where the uploads of task `taskId` are kept. */
  dirOf(taskId: string): string {
    return path.join(this.root, taskId);
  }

  /** Creates the task's (empty) folder and marks it in use. */
  async create(taskId: string): Promise<string> {
    // Marked before it exists, so a sweep running meanwhile never takes it.
    this.inUse.add(taskId);
    const dir = this.dirOf(taskId);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Removes the task's folder and everything in it; never rejects. */
  async remove(taskId: string): Promise<void> {
    try {
      await rm(this.dirOf(taskId), { recursive: true, force: true });
    } catch (error) {
      // Left for the sweeper; the call itself is not affected.
      this.logger.warn({ err: error, taskId }, 'could not remove an upload folder');
    } finally {
      this.inUse.delete(taskId);
    }
  }

  /**
   * Removes every folder not in use here whose task `stillNeeded` does not claim (a queued or
   * running async task). Returns the task ids removed.
   */
  async sweep(stillNeeded: (taskId: string) => Promise<boolean>): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const leftovers: string[] = [];
    for (const name of names) {
      if (this.inUse.has(name) || (await stillNeeded(name))) continue;
      // Checked again: a call may have taken the folder while the store answered.
      if (this.inUse.has(name)) continue;
      leftovers.push(name);
      await rm(this.dirOf(name), { recursive: true, force: true });
    }
    if (leftovers.length > 0) this.logger.info({ folders: leftovers.length }, 'upload folders of ended tasks removed');
    return leftovers;
  }

  /** Sweeps now and then every SWEEP_INTERVAL_MS, until `stopSweeping`. */
  startSweeping(stillNeeded: (taskId: string) => Promise<boolean>): void {
    const sweep = (): void => {
      this.sweep(stillNeeded).catch((error: unknown) => this.logger.error({ err: error }, 'upload folder sweep failed'));
    };
    sweep();
    this.sweeper = setInterval(sweep, SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  stopSweeping(): void {
    clearInterval(this.sweeper);
  }
}
