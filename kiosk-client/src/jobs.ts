/**
 * The batch job page (/kiosk/jobs.html#token=...): submit a portrait with an audio recording or a
 * text, watch the progress, download the MP4, cancel. Talks only to /api/jobs on its own server,
 * with the token from the URL fragment (an `author` token or the admin key).
 */
interface Job {
  id: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  progress: number;
  createdAt: string;
  error: string | null;
  input: { audio: string | null; text: string | null; uploads: { field: string; name: string }[]; params: { preset: string; size?: { width: number; height: number } } };
  result: { durationSec: number } | null;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
const headers = { authorization: `Bearer ${token}` };
const rows = $<HTMLTableElement>('jobs').tBodies[0]!;
const submitError = $<HTMLParagraphElement>('submit-error');

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { ...init, headers: { ...headers, ...(init.headers ?? {}) } });
  const body = (await res.json()) as T & { ok: boolean; error?: string };
  if (!body.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

const clip = (s: string, n: number) => ([...s].length > n ? `${[...s].slice(0, n - 1).join('')}…` : s);

/** what a job speaks, isolated from the page's text direction (a U+202E in a name turns only itself) */
function describe(j: Job): HTMLElement {
  const what = document.createElement('bdi');
  what.className = 'what';
  what.textContent = j.input.text ? `text: ${clip(j.input.text, 60)}` : clip(j.input.uploads.find((u) => u.field === 'audio')?.name ?? 'audio', 80);
  return what;
}

function render(jobs: Job[]): void {
  rows.replaceChildren(
    ...jobs.map((j) => {
      const tr = document.createElement('tr');
      tr.dataset.job = j.id;
      tr.dataset.state = j.state;
      const cell = (content: string | Node) => {
        const td = document.createElement('td');
        td.append(content);
        tr.append(td);
        return td;
      };
      cell(new Date(j.createdAt).toLocaleString());
      const size = j.input.params.size;
      cell(describe(j)).append(` (${j.input.params.preset}${size ? `, ${size.width}x${size.height}` : ''})`);
      const bar = document.createElement('progress');
      bar.max = 1;
      bar.value = j.progress;
      cell(bar);
      cell(j.state === 'failed' ? `failed: ${j.error}` : j.state === 'done' && j.result ? `done, ${j.result.durationSec.toFixed(1)} s` : j.state);
      const actions = cell('');
      if (j.state === 'done') {
        const b = document.createElement('button');
        b.textContent = 'Download';
        b.addEventListener('click', () => void download(j.id));
        actions.append(b);
      }
      if (j.state === 'queued' || j.state === 'running') {
        const b = document.createElement('button');
        b.textContent = 'Cancel';
        b.className = 'secondary';
        b.addEventListener('click', () => void api(`/api/jobs/${j.id}/cancel`, { method: 'POST' }).then(refresh, (e: Error) => alert(e.message)));
        actions.append(b);
      }
      return tr;
    }),
  );
}

async function download(id: string): Promise<void> {
  const res = await fetch(`/api/jobs/${id}/video`, { headers });
  if (!res.ok) return alert(`download failed: HTTP ${res.status}`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `talking-${id}.mp4`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function refresh(): Promise<void> {
  try {
    const { jobs } = await api<{ jobs: Job[] }>('/api/jobs');
    render(jobs);
    $('auth-error').hidden = true;
  } catch (e) {
    $('auth-error').hidden = false;
    $('auth-error').textContent = `Cannot list the jobs: ${(e as Error).message}`;
  }
}

$<HTMLFormElement>('submit').addEventListener('submit', async (e) => {
  e.preventDefault();
  submitError.textContent = '';
  const form = new FormData();
  const portrait = $<HTMLInputElement>('portrait').files?.[0];
  if (portrait) form.append('portrait', portrait);
  const source = (document.querySelector('input[name="source"]:checked') as HTMLInputElement).value;
  if (source === 'audio') {
    const audio = $<HTMLInputElement>('audio').files?.[0];
    if (!audio) return void (submitError.textContent = 'Choose an audio recording, or switch to text.');
    form.append('audio', audio);
  } else form.append('text', $<HTMLTextAreaElement>('text').value);
  form.append('preset', $<HTMLSelectElement>('preset').value);
  if ($<HTMLSelectElement>('size').value) form.append('size', $<HTMLSelectElement>('size').value);
  try {
    await api('/api/jobs', { method: 'POST', body: form });
    await refresh();
  } catch (err) {
    submitError.textContent = (err as Error).message;
  }
});

if (!token) {
  $('auth-error').hidden = false;
  $('auth-error').textContent = 'This page needs a token: open /kiosk/jobs.html#token=… (an author token, see POST /api/tokens)';
} else {
  void refresh();
  setInterval(() => void refresh(), 1000);
}
