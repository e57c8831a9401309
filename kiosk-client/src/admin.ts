/**
 * The operator console (/admin/): sign in with the admin key (exchanged for an HttpOnly cookie; the
 * key is not kept by the page), then per session: state, a small live preview (the kiosk page in a
 * frame, muted), a say box, interrupt, a new portrait, delete; its named kiosks with what they
 * report, a new kiosk's URL and QR code, revoke. Also: new sessions, the jobs, the server's recent
 * warnings and errors. Talks only to its own server (the session's admin API, with the CSRF token
 * on every change).
 */

interface SessionRow {
  id: string;
  name: string;
  voice: string | null;
  preset: string;
  fit: 'cover' | 'contain';
  state: string;
  kiosks: number;
  queuedMs: number;
  media: { fps: number };
  info: { width: number; height: number; engine: string };
}
interface KioskToken {
  id: string;
  name: string;
  session: string;
  url: string;
  revoked: boolean;
  seen: { connected: number; lastSeen: string; address: string; browser: string; fps: number | null; avOffsetMs: number | null } | null;
}
interface Health {
  status: string;
  tts: { active: string; upstream?: { up: boolean } | null };
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
let csrf = '';

class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (typeof init.body === 'string') headers['content-type'] = 'application/json';
  const res = await fetch(path, { ...init, method, headers, credentials: 'same-origin' });
  const body = (await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }))) as T & { ok: boolean; error?: string };
  if (res.status === 401) showSignIn();
  if (!body.ok) throw new ApiError(body.error ?? `HTTP ${res.status}`, res.status);
  return body;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(e, rest);
  if (dataset) Object.assign(e.dataset, dataset);
  e.append(...children);
  return e;
}

// ------------------------------------------------------------------ sign-in

function showSignIn(): void {
  $('sign-in').hidden = false;
  $('console').hidden = true;
  $('sign-out').hidden = true;
}

async function signedIn(): Promise<void> {
  $('sign-in').hidden = true;
  $('console').hidden = false;
  $('sign-out').hidden = false;
  await refresh();
}

$('sign-in').addEventListener('submit', (e) => {
  e.preventDefault();
  const key = $<HTMLInputElement>('key');
  void api<{ csrf: string }>('/admin/api/session', { method: 'POST', body: JSON.stringify({ key: key.value }) }).then(
    (r) => {
      csrf = r.csrf;
      key.value = ''; // the page keeps no key
      $('sign-in-error').textContent = '';
      return signedIn();
    },
    (err: Error) => ($('sign-in-error').textContent = err.message),
  );
});

$('sign-out').addEventListener('click', () => void api('/admin/api/session', { method: 'DELETE' }).finally(showSignIn));

// ------------------------------------------------------------------ sessions

const cards = new Map<string, { root: HTMLElement; stats: HTMLElement; kiosks: HTMLTableSectionElement; title: HTMLElement; fit: HTMLSelectElement }>();

function sessionCard(id: string): NonNullable<ReturnType<typeof cards.get>> {
  const existing = cards.get(id);
  if (existing) return existing;
  const title = el('h3');
  const stats = el('p', { className: 'stats' });
  const error = el('p', { className: 'error', role: 'alert' });
  const fail = (e: Error) => (error.textContent = e.message);
  const ok = () => (error.textContent = '');

  const previewSlot = el('div');
  const previewButton = el('button', { className: 'secondary', textContent: 'Preview', type: 'button', dataset: { action: 'preview' } });
  previewButton.addEventListener('click', () => {
    if (previewSlot.firstChild) {
      previewSlot.replaceChildren();
      previewButton.textContent = 'Preview';
      return;
    }
    // a short-lived kiosk token for the frame: the same WebRTC path a kiosk uses, small and muted
    void api<{ url: string }>('/api/tokens', { method: 'POST', body: JSON.stringify({ session: id, role: 'kiosk', ttl_days: 1 / 96 }) }).then((r) => {
      previewSlot.replaceChildren(el('iframe', { className: 'preview', src: `${r.url}&muted=1`, title: `preview of ${id}` }));
      previewButton.textContent = 'Close preview';
    }, fail);
  });

  const sayText = el('textarea', { rows: 2, maxLength: 2000, placeholder: 'Text the avatar speaks' });
  const sayButton = el('button', { textContent: 'Speak', type: 'submit' });
  const sayForm = el('form', { className: 'row', dataset: { action: 'say' } }, el('label', {}, 'Say', sayText), sayButton);
  sayForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void api(`/api/sessions/${id}/say`, { method: 'POST', body: JSON.stringify({ text: sayText.value }) }).then(ok, fail);
  });
  const interrupt = el('button', { className: 'secondary', textContent: 'Interrupt', type: 'button', dataset: { action: 'interrupt' } });
  interrupt.addEventListener('click', () => void api(`/api/sessions/${id}/interrupt`, { method: 'POST', body: '{}' }).then(ok, fail));

  const portrait = el('input', { type: 'file', accept: 'image/png,image/jpeg' });
  const replace = el('button', { className: 'secondary', textContent: 'Replace portrait', type: 'submit' });
  const portraitForm = el('form', { className: 'row', dataset: { action: 'portrait' } }, el('label', {}, 'New portrait', portrait), replace);
  portraitForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const file = portrait.files?.[0];
    if (!file) return fail(new Error('choose a photo first'));
    const form = new FormData();
    form.append('portrait', file);
    replace.disabled = true;
    void api(`/api/sessions/${id}`, { method: 'PATCH', body: form })
      .then(ok, fail)
      .finally(() => (replace.disabled = false));
  });

  const remove = el('button', { className: 'danger', textContent: 'Delete session', type: 'button', dataset: { action: 'delete' } });
  remove.addEventListener('click', () => {
    if (!confirm(`Delete session ${id}? Its kiosks will show that it is gone.`)) return;
    void api(`/api/sessions/${id}`, { method: 'DELETE' }).then(() => void refresh(), fail);
  });

  const kiosks = el('tbody');
  const kioskName = el('input', { placeholder: 'Hall A, window 3', maxLength: 80, required: true });
  const newKiosk = el('form', { className: 'row', dataset: { action: 'new-kiosk' } }, el('label', {}, 'New kiosk', kioskName), el('button', { textContent: 'Add kiosk', type: 'submit' }));
  const link = el('div', { className: 'kiosk-link' });
  newKiosk.addEventListener('submit', (e) => {
    e.preventDefault();
    void api<{ id: string; url: string }>('/api/tokens', { method: 'POST', body: JSON.stringify({ session: id, role: 'kiosk', name: kioskName.value }) }).then((r) => {
      kioskName.value = '';
      // the QR code encodes the same URL: scan it on the kiosk, or open the link there
      link.replaceChildren(el('a', { href: r.url, textContent: r.url, className: 'kiosk-url', target: '_blank', rel: 'noreferrer' }), el('img', { src: `/api/tokens/${r.id}/qr.svg`, alt: `QR code of the kiosk URL`, className: 'kiosk-qr' }));
      ok();
      void refresh();
    }, fail);
  });

  // how its kiosks fit the picture to their screens: applied on them at once
  const fit = el('select', { dataset: { action: 'fit' } }, el('option', { value: 'cover', textContent: 'fill the screen (cover)' }), el('option', { value: 'contain', textContent: 'show all of it (contain)' }));
  fit.addEventListener('change', () => void api(`/api/sessions/${id}`, { method: 'PATCH', body: JSON.stringify({ fit: fit.value }) }).then(ok, fail));
  const fitRow = el('div', { className: 'row' }, el('label', {}, 'Picture on the kiosks', fit));

  const root = el(
    'article',
    { className: 'session', dataset: { session: id } },
    title,
    stats,
    el('div', { className: 'row' }, previewButton, interrupt, remove),
    previewSlot,
    sayForm,
    portraitForm,
    fitRow,
    el('h4', { textContent: 'Kiosks' }),
    el('table', {}, el('thead', {}, el('tr', {}, ...['name', 'last seen', 'address', 'browser', 'fps', 'A/V ms', ''].map((h) => el('th', { textContent: h })))), kiosks),
    newKiosk,
    link,
    error,
  );
  const card = { root, stats, kiosks, title, fit };
  cards.set(id, card);
  $('sessions').append(root);
  return card;
}

function renderKiosks(body: HTMLTableSectionElement, list: KioskToken[]): void {
  body.replaceChildren(
    ...list.map((k) => {
      const revoke = el('button', { className: 'secondary', textContent: k.revoked ? 'revoked' : 'Revoke', type: 'button', disabled: k.revoked });
      revoke.addEventListener('click', () => void api('/api/tokens/revoke', { method: 'POST', body: JSON.stringify({ id: k.id }) }).then(() => void refresh()));
      const s = k.seen;
      const cells = [k.name, s ? `${s.connected > 0 ? 'now' : new Date(s.lastSeen).toLocaleString()}` : 'never', s?.address ?? '', s?.browser.replace(/^Mozilla\/5\.0 /, '') ?? '', s?.fps?.toString() ?? '', s?.avOffsetMs?.toString() ?? ''];
      return el('tr', { dataset: { token: k.id } }, ...cells.map((c) => el('td', { textContent: c })), el('td', {}, revoke));
    }),
  );
}

async function refresh(): Promise<void> {
  const [{ sessions }, { tokens }, health] = await Promise.all([
    api<{ sessions: SessionRow[] }>('/api/sessions'),
    api<{ tokens: KioskToken[] }>('/api/tokens'),
    fetch('/healthz').then((r) => r.json() as Promise<Health>),
  ]);
  $('server-state').textContent = `server ${health.status} · speech: ${health.tts.active}${health.tts.upstream ? ` (upstream ${health.tts.upstream.up ? 'up' : 'down'})` : ''}`;
  for (const [id, card] of cards) {
    if (!sessions.some((s) => s.id === id)) {
      card.root.remove();
      cards.delete(id);
    }
  }
  for (const s of sessions) {
    const card = sessionCard(s.id);
    card.title.textContent = `${s.name} (${s.id})`;
    if (document.activeElement !== card.fit) card.fit.value = s.fit;
    card.stats.textContent = `${s.state} · ${s.media.fps.toFixed(1)} fps · ${s.kiosks} kiosk${s.kiosks === 1 ? '' : 's'} · ${s.info.width}x${s.info.height} ${s.info.engine} · preset ${s.preset} · voice ${s.voice ?? 'the server\'s'}${s.queuedMs > 0 ? ` · ${(s.queuedMs / 1000).toFixed(1)} s queued` : ''}`;
    renderKiosks(card.kiosks, tokens.filter((t) => t.session === s.id));
  }
  void refreshJobs();
  void refreshLog();
}

async function refreshJobs(): Promise<void> {
  const { jobs } = await api<{ jobs: { id: string; state: string; progress: number; createdAt: string; input: { text: string | null; uploads: { field: string; name: string }[] } }[] }>('/api/jobs');
  $<HTMLTableElement>('jobs').tBodies[0]!.replaceChildren(
    ...jobs.slice(0, 20).map((j) =>
      el('tr', {}, el('td', { textContent: new Date(j.createdAt).toLocaleString() }), el('td', { textContent: j.state }), el('td', { textContent: `${Math.round(j.progress * 100)} %` }), el('td', {}, el('bdi', { textContent: j.input.text ? `text: ${j.input.text.slice(0, 60)}` : (j.input.uploads.find((u) => u.field === 'audio')?.name ?? 'audio') }))),
    ),
  );
}

async function refreshLog(): Promise<void> {
  const { entries } = await api<{ entries: { time: string; level: string; msg: string; session?: string; error?: string }[] }>('/admin/api/log');
  $('log').replaceChildren(...entries.slice(0, 30).map((e) => el('li', { className: `${e.level}-entry`, textContent: `${new Date(e.time).toLocaleTimeString()} ${e.level}${e.session ? ` [${e.session}]` : ''}: ${e.msg}${e.error ? ` (${e.error})` : ''}` })));
}

// ------------------------------------------------------------------ new session

$('create').addEventListener('submit', (e) => {
  e.preventDefault();
  const form = new FormData();
  for (const [field, id] of [['id', 'new-id'], ['name', 'new-name'], ['voice', 'new-voice'], ['preset', 'new-preset'], ['fit', 'new-fit']] as const) {
    const v = $<HTMLInputElement>(id).value.trim();
    if (v) form.append(field, v);
  }
  if ($<HTMLInputElement>('new-captions').checked) form.append('captions', 'true');
  const file = $<HTMLInputElement>('new-portrait').files?.[0];
  if (file) form.append('portrait', file);
  const send = $<HTMLButtonElement>('create-send');
  send.disabled = true;
  $('create-error').textContent = 'Checking the photo and starting the session…';
  void api('/api/sessions', { method: 'POST', body: form })
    .then(
      () => {
        $('create-error').textContent = '';
        $<HTMLFormElement>('create').reset();
        return refresh();
      },
      (err: Error) => ($('create-error').textContent = err.message),
    )
    .finally(() => (send.disabled = false));
});

// ------------------------------------------------------------------ start

void api<{ csrf: string }>('/admin/api/session').then(
  (r) => {
    csrf = r.csrf;
    return signedIn();
  },
  () => showSignIn(),
);
setInterval(() => {
  if (!$('console').hidden) void refresh().catch(() => undefined);
}, 2000);
