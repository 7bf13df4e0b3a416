/**
 * The product server as a child process for the load benchmarks: `buildApp` from the environment (the
 * parent sets DATABASE_URL, ORTHANC_*, POLICY_FILE, ...), plus the benchmark-only `bench_echo` tool, on a
 * free loopback port. Tells the parent its port over IPC; closes the app (and exits, so `--cpu-prof` can
 * write its profile) when the parent sends "stop".
 */
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { benchEcho } from './bench-tool.js';
import { serveChild } from './child.js';

const app = await buildApp(loadConfig(process.env));
app.parts.registry.register(benchEcho, 'bench');
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
serveChild(typeof address === 'object' && address ? address.port : 0, () => app.close());
