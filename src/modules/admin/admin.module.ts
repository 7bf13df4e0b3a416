import type { Module, ModuleDeps } from '../../core/module.js';
import { securityDb } from '../../security/users.store.js';
import { adminTools } from './admin.tools.js';
import { assignmentScopeSource, assignmentTools } from './assignments.tools.js';
import { outboxTools } from './outbox.tools.js';
import { practiceTools } from './practice.tools.js';

/**
 * Administration: system status, dead domain-event deliveries, patient assignments (which patients a referring doctor may see for a
 * while) and the practice profile (core.practice_profile). Runs in-process; up whenever the server is.
 */
export function adminModule({ database, clock, practiceZone, system }: ModuleDeps): Module {
  const users = securityDb(database.db);
  return {
    name: 'admin',
    tools: [
      ...assignmentTools(users, clock, practiceZone),
      ...adminTools(system),
      ...outboxTools(system.deadLetters),
      ...practiceTools(database.db, practiceZone),
    ],
    scopeSources: [assignmentScopeSource(users, clock)],
  };
}
