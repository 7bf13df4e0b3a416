// The practice console: system health at a glance, today's worklist and recent audit activity.
// It is a plain client of the REST API: every call carries the signed-in user's token and goes through
// the same permission checks, redaction and audit as any other door.
const state = { token: sessionStorage.getItem('upc-token'), user: sessionStorage.getItem('upc-user') };
const $ = (id) => document.getElementById(id);

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

async function invoke(tool, parameters = {}) {
  const response = await fetch('/console/invoke', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${state.token}`,
    },
    body: JSON.stringify({ tool, parameters }),
  });
  const body = await response.json();
  if (!body.success) throw Object.assign(new Error(body.error.message), { code: body.error.error_code });
  return body.result;
}

async function refreshHealth() {
  try {
    const health = await (await fetch('/health')).json();
    $('overall').textContent = health.status;
    $('overall').className = `badge ${health.status}`;
    const list = $('modules');
    list.replaceChildren(
      ...Object.entries(health.modules).map(([name, module]) => {
        const li = document.createElement('li');
        const label = document.createElement('strong');
        label.textContent = name;
        const status = document.createElement('span');
        status.className = module.status;
        const breaker = module.details?.breaker ? `, breaker ${module.details.breaker}` : '';
        status.textContent = `${module.status} (${module.latency_ms} ms${breaker})`;
        const detail = document.createElement('div');
        detail.className = 'detail';
        detail.textContent = module.error ?? '';
        const left = document.createElement('div');
        left.append(label, detail);
        li.append(left, status);
        return li;
      }),
    );
    $('status-time').textContent = `version ${health.version}, checked ${new Date().toLocaleTimeString()}`;
  } catch {
    $('overall').textContent = 'unreachable';
    $('overall').className = 'badge degraded';
  }
}

/** The day's worklist as last fetched; the modality filter works on it without another call. */
let worklistDay = { timeZone: '', items: [], nextOpenDate: undefined };

async function refreshWorklist() {
  const date = $('worklist-date').value;
  try {
    const result = await invoke('ris_get_worklist', date ? { date } : {});
    if (!date) $('worklist-date').value = result.date;
    worklistDay = { timeZone: result.time_zone, items: result.worklist, nextOpenDate: result.next_open_date };
    showClosed(result);
    showModalities(result.worklist);
    showWorklist();
    $('worklist-panel').hidden = false;
  } catch (error) {
    $('worklist-panel').hidden = error.code === 'FORBIDDEN';
    $('worklist-count').textContent = error.message;
  }
}

/** A closed day says so and offers the next open day, instead of an empty table. */
function showClosed(result) {
  $('worklist-closed').hidden = result.open;
  $('worklist-closed-note').textContent = result.open ? '' : result.closed_notice;
  const next = $('worklist-next-open');
  next.hidden = result.open || !result.next_open_date;
  if (result.next_open_date) {
    const day = new Date(`${result.next_open_date}T12:00:00Z`);
    const weekday = day.toLocaleDateString('en-ZA', { weekday: 'long', timeZone: 'UTC' });
    next.textContent = `Show ${weekday} ${result.next_open_date}`;
  }
}

function showModalities(items) {
  const select = $('worklist-modality');
  const chosen = select.value;
  const modalities = [...new Set(items.map((item) => item.modality))].sort();
  select.replaceChildren(
    new Option('All modalities', ''),
    ...modalities.map((m) => new Option(m, m, false, m === chosen)),
  );
}

function showWorklist() {
  const modality = $('worklist-modality').value;
  const items = worklistDay.items.filter((item) => !modality || item.modality === modality);
  $('worklist').replaceChildren(
    ...items.map((item) => {
      const tr = document.createElement('tr');
      tr.className = item.priority;
      tr.append(
        cell(item.scheduled_start.slice(11, 16)),
        cell(item.room),
        cell(item.priority),
        cell(`${item.patient_name.replace('^', ', ')} (${item.patient_id})`),
        cell(item.study_description),
        cell(item.status, `status ${item.status}`),
      );
      return tr;
    }),
  );
  $('worklist-summary').replaceChildren(...statusCounts(items));
  $('worklist-count').textContent =
    `${items.length} appointments${modality ? ` (${modality})` : ''} (${worklistDay.timeZone})`;
}

/** The study statuses in workflow order, as the worklist tool's own input schema lists them. */
let statusOrder = [];
async function loadStatusOrder() {
  try {
    const { tools } = await (await fetch('/mcp/v1/tools')).json();
    const worklist = tools.find((tool) => tool.name === 'ris_get_worklist');
    statusOrder = worklist?.input_schema.properties.status.enum ?? [];
  } catch {
    statusOrder = [];
  }
}

/** One chip per status in workflow order, e.g. "12 booked", so the day's progress shows at a glance. */
function statusCounts(items) {
  const counts = new Map();
  for (const item of items) counts.set(item.status, (counts.get(item.status) ?? 0) + 1);
  const known = statusOrder.filter((status) => counts.has(status));
  const others = [...counts.keys()].filter((status) => !known.includes(status));
  return [...known, ...others].map((status) => {
    const chip = document.createElement('span');
    chip.className = `chip status ${status}`;
    chip.textContent = `${counts.get(status)} ${status.replace('_', ' ').toLowerCase()}`;
    return chip;
  });
}

async function refreshAudit() {
  try {
    const result = await invoke('admin_search_audit', { limit: 20 });
    $('audit').replaceChildren(
      ...result.events.map((event) => {
        const tr = document.createElement('tr');
        tr.append(
          cell(new Date(event.occurred_at).toLocaleString()),
          cell(event.actor_subject ?? '(no valid token)'),
          cell(event.door),
          cell(event.tool),
          cell(event.error_code ? `${event.outcome}: ${event.error_code}` : event.outcome, event.outcome),
          cell(event.patient_ids.join(', ')),
        );
        return tr;
      }),
    );
    $('audit-panel').hidden = false;
  } catch {
    $('audit-panel').hidden = true;
  }
}

function showUser() {
  const signedIn = Boolean(state.token);
  $('who').textContent = signedIn ? `signed in as ${state.user}` : 'not signed in';
  $('signin').hidden = signedIn;
  $('signout').hidden = !signedIn;
  if (!signedIn) {
    $('worklist-panel').hidden = true;
    $('audit-panel').hidden = true;
  }
}

$('signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  $('signin-error').textContent = '';
  const response = await fetch('/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: form.get('username'), password: form.get('password') }),
  });
  const body = await response.json();
  if (!response.ok) {
    $('signin-error').textContent = body.error?.message ?? 'Sign-in failed';
    return;
  }
  state.token = body.access_token;
  state.user = String(form.get('username'));
  sessionStorage.setItem('upc-token', state.token);
  sessionStorage.setItem('upc-user', state.user);
  event.target.reset();
  showUser();
  await showPanels();
});

/**
 * The panels this user's role can use, from the tools the server says it may call (never by trying
 * them: a refused probe would be a false FORBIDDEN in the audit log).
 */
async function showPanels() {
  let allowed = new Set();
  try {
    const response = await fetch('/mcp/v1/tools', { headers: { authorization: `Bearer ${state.token}` } });
    if (response.ok) allowed = new Set((await response.json()).tools.map((tool) => tool.name));
  } catch {
    allowed = new Set();
  }
  $('worklist-panel').hidden = !allowed.has('ris_get_worklist');
  $('audit-panel').hidden = !allowed.has('admin_search_audit');
  await Promise.all([
    allowed.has('ris_get_worklist') ? refreshWorklist() : undefined,
    allowed.has('admin_search_audit') ? refreshAudit() : undefined,
  ]);
}

$('signout').addEventListener('click', () => {
  sessionStorage.clear();
  state.token = null;
  state.user = null;
  showUser();
});

$('worklist-date').addEventListener('change', refreshWorklist);
$('worklist-next-open').addEventListener('click', () => {
  if (!worklistDay.nextOpenDate) return;
  $('worklist-date').value = worklistDay.nextOpenDate;
  void refreshWorklist(); // it reports its own failures on the page
});
$('worklist-modality').addEventListener('change', showWorklist);

// Each of these reports its own failures on the page; nothing waits for them.
showUser();
void refreshHealth();
setInterval(refreshHealth, 5000);
void loadStatusOrder();
if (state.token) void showPanels();
