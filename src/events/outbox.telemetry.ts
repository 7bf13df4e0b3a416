/**
 * How the outbox reports deliveries without depending on the metrics library: observability implements it
 * (the proposed metric names are at the top of outbox.dispatcher.ts), tests and tools leave the no-op.
 * Labels are the event type and the handler name, both fixed by code, so their number stays small.
 */
export interface OutboxTelemetry {
  /** The handler returned; the delivery is done. */
  delivered(type: string, handler: string): void;
  /**
   * An attempt failed: the handler threw. (An attempt whose process died is seen only as its lease running
   * out; it is reported here when it was the last allowed one.)
   */
  failed(type: string, handler: string): void;
  /**
   * That failure was the last allowed attempt (reported after `failed`): the delivery now waits for an
   * operator (`admin_list_dead_letters`, `admin_retry_dead_letter`).
   */
  deadLettered(type: string, handler: string): void;
}

export const NO_OUTBOX_TELEMETRY: OutboxTelemetry = {
  delivered() {},
  failed() {},
  deadLettered() {},
};
