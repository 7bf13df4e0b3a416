/** The IPC protocol between a benchmark server child and the parent (bench/lib/server.ts). */
export type ChildMessage = { kind: 'ready'; port: number } | { kind: 'stopped' };
export type ParentMessage = { kind: 'stop' };

/** Reports the port, then waits for "stop": closes the server and exits cleanly (profiles get written). */
export function serveChild(port: number, close: () => Promise<unknown>): void {
  const send = (message: ChildMessage) => process.send?.(message);
  process.on('message', (message: ParentMessage) => {
    if (message.kind !== 'stop') return;
    void close().finally(() => {
      send({ kind: 'stopped' });
      process.disconnect?.();
      process.exit(0);
    });
  });
  // The parent going away (crash, Ctrl-C) must not leave a server running.
  process.on('disconnect', () => process.exit(0));
  send({ kind: 'ready', port });
}
