// The unit-of-work port: a change and the domain events that describe it are stored together, so
// a committed change always has its events and a failed one has none. The adapter (Sequelize, in
// infrastructure/db) decides what "together" means for its database.
import type { UserRepository } from '../users/user.js';

export interface DomainEventDraft {
  stream: string;
  type: string;
  payload: unknown;
}

export interface WorkScope {
  // The repository bound to this unit of work: every read and write of the work goes through it.
  users: UserRepository;
  // Stored with the change; published after the commit.
  record(event: DomainEventDraft): void;
}

export interface UnitOfWork {
  run<T>(work: (scope: WorkScope) => Promise<T>): Promise<T>;
}
