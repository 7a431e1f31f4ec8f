import type { DeployEntry, DeployPin } from '../model/deploy.js';

/**
 * The deploy history and the rollback pin, kept beside the task records so both survive a
 * restart. Async like the other ports, so a shared store (Redis) can implement it.
 */
export interface DeployHistory {
  /** Appends an attempt, then keeps only the newest `keep` entries. */
  add(entry: Omit<DeployEntry, 'id'>, keep: number): Promise<void>;
  /** The newest `limit` entries, newest first. */
  list(limit: number): Promise<DeployEntry[]>;
  /** The pin a rollback set, if it still holds. */
  pin(): Promise<DeployPin | undefined>;
  /** Sets the pin, or clears it (undefined). */
  setPin(pin: DeployPin | undefined): Promise<void>;
}
