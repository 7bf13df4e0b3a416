import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { REPO_ROOT } from '../harness/cli.js';
import { runFile, startPrometheus } from '../harness/prometheus.js';
import { requireProgram } from '../harness/requirements.js';

const SCRAPE_TOKEN = 'monitoring-scrape-token-0123456789';
const SCRAPER = { authorization: `Bearer ${SCRAPE_TOKEN}` };
const ALERTS = `${REPO_ROOT}deploy/prometheus/alerts.yaml`;
const DASHBOARD = `${REPO_ROOT}deploy/grafana/mcp-dashboard.json`;

let t: TestApp;
let base: string;

beforeAll(async () => {
  t = await startTestApp({ METRICS_TOKEN: SCRAPE_TOKEN });
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  await t.invoke('admin_get_system_status', {}, 'admin');
});
afterAll(() => t.close());

/** Metric names referenced by PromQL expressions (histograms by their series name). */
function metricNames(exprs: string[]): Set<string> {
  const names = new Set<string>();
  for (const expr of exprs) {
    for (const match of expr.matchAll(/\b((?:mcp|upc|process|nodejs)_[a-z0-9_]+)/g)) names.add(match[1]!);
  }
  return names;
}

describe('alerts and dashboard', () => {
  it('promtool accepts the alert rules', async () => {
    const { stdout } = await runFile(requireProgram('promtool', 'prometheus'), ['check', 'rules', ALERTS]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('every metric the alerts and the dashboard use is one the server exposes', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = [
      ...dashboard.panels.flatMap((p) => p.targets.map((target) => target.expr)),
      ...[...readFileSync(ALERTS, 'utf8').matchAll(/expr: \|?\s*([\s\S]*?)\n\s+(?:for|labels):/g)].map(
        (m) => m[1]!,
      ),
    ];
    const exposed = (await (await fetch(`${base}/metrics`, { headers: SCRAPER })).text())
      .split('\n')
      .filter((line) => line.startsWith('# TYPE '))
      .map((line) => line.split(' ')[2]!);
    const missing = [...metricNames(exprs)].filter(
      (name) => !exposed.includes(name) && !exposed.includes(name.replace(/_(bucket|sum|count)$/, '')),
    );
    expect(missing).toEqual([]);
  });
});

describe('Prometheus', () => {
  it('scrapes the server: the target is up and the tool counters arrive', async () => {
    const target = base.replace('http://', '');
    const prometheus = await startPrometheus([target], ALERTS, SCRAPE_TOKEN);
    try {
      let up = '';
      let invocations = '';
      for (let i = 0; i < 120 && (up !== '1' || !invocations); i++) {
        await new Promise((r) => setTimeout(r, 500));
        const query = async (q: string) => {
          const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`).catch(
            () => undefined,
          );
          if (!response?.ok) return '';
          const body = (await response.json()) as { data: { result: { value: [number, string] }[] } };
          return body.data.result[0]?.value[1] ?? '';
        };
        up = await query('up{job="upc-mcp"}');
        invocations = await query('sum(mcp_tool_invocations_total{tool_name="admin_get_system_status"})');
      }
      expect(up).toBe('1');
      expect(Number(invocations)).toBeGreaterThanOrEqual(1);
    } finally {
      await prometheus.stop();
    }
  }, 90_000);
});
