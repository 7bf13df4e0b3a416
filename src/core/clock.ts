/**
 * The product's one clock. Every decision about the practice's calendar (today's worklist, the earliest
 * free slot, "in the past", urgency windows, expiry of confirmations and assignments) asks a `Clock`, never
 * the machine, so a test or a training server can run on a chosen day.
 *
 * Durations that protect the system (token lifetimes, rate-limit windows, breaker cool-downs, cache TTLs,
 * sign-in lock-outs) measure elapsed time on the machine's clock: they are not the practice's calendar.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock that starts at a chosen instant. Frozen (tests: the same answer on every call until moved) or
 * running (a server started with `UPC_CLOCK_START`: time passes as usual from the chosen start).
 */
export class SettableClock implements Clock {
  /** Where the clock stands, or where it stood when the machine's clock read `#setAtMs` (running). */
  #instantMs: number;
  #setAtMs: number;
  readonly #running: boolean;

  constructor(start: Date | string, options: { running?: boolean } = {}) {
    this.#instantMs = parseInstant(start);
    this.#setAtMs = Date.now();
    this.#running = options.running ?? false;
  }

  now(): Date {
    return new Date(this.#running ? this.#instantMs + (Date.now() - this.#setAtMs) : this.#instantMs);
  }

  /** Puts the clock at `instant` (an ISO 8601 time with its offset, or a Date). */
  set(instant: Date | string): void {
    this.#instantMs = parseInstant(instant);
    this.#setAtMs = Date.now();
  }

  /** Moves the clock forward (or back, with a negative amount). */
  advance(ms: number): void {
    this.#instantMs += ms;
  }
}

/** The clock a server runs on: the machine's, or a chosen start (never in production; config checks). */
export function clockFor(start: string | undefined): Clock {
  return start ? new SettableClock(start, { running: true }) : systemClock;
}

function parseInstant(instant: Date | string): number {
  const ms = typeof instant === 'string' ? Date.parse(instant) : instant.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`Not a point in time: ${String(instant)}`);
  return ms;
}
