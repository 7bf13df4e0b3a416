import type { ColumnType, Generated, Kysely } from 'kysely';

/** The row shapes of the outbox (src/db/migrations/0013_outbox.sql), as Kysely sees them. */

type Timestamp = ColumnType<Date, Date, Date>;
type NullableTimestamp = ColumnType<Date | null, Date | null, Date | null>;

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export type OutboxTables = {
  'core.outbox_events': {
    /** bigint; read as a number (the type parsers in src/db/database.ts). */
    id: Generated<number>;
    type: string;
    key: string;
    /** JSON text on the way in, parsed JSON on the way out. */
    payload: ColumnType<unknown, string, never>;
    occurred_at: Timestamp;
  };
  'core.outbox_subscriptions': {
    type: string;
    handler: string;
    subscribed_at: Generated<Date>;
  };
  'core.outbox_deliveries': {
    event_id: number;
    handler: string;
    status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
    attempts: Generated<number>;
    next_attempt_at: Timestamp;
    locked_until: NullableTimestamp;
    lease_token: ColumnType<string | null, string | null, string | null>;
    last_error: ColumnType<string | null, string | null, string | null>;
    delivered_at: NullableTimestamp;
  };
};

export type OutboxDb = Kysely<OutboxTables>;
