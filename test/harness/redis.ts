/**
 * A throwaway redis-server on a free loopback port, for tests that stop Redis mid-test (the shared one at
 * 127.0.0.1:6379 must stay up for everybody else). No persistence; killed when the test process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './postgres.js';
import { requireFile } from './requirements.js';

export const REDIS_BINARY = process.env.REDIS_BINARY ?? '/usr/bin/redis-server';

export interface RedisHandle {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: the server disappears without closing connections cleanly. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisHandle> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  requireFile(REDIS_BINARY, 'redis-server');
  const start = async () => {
    child = spawn(
      REDIS_BINARY,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await waitForPort(port, 10_000);
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: start,
    async stop() {
      process.off('exit', onExit);
      await kill();
    },
  };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
}
