/** Polling a batch job over HTTP until it reaches one of some states. */

/** The job as GET /api/jobs/:id answers it, read with `token` from the server at `url()`. */
export async function getJob<T extends { state: string }>(url: string, token: string, id: string): Promise<T> {
  return (await (await fetch(`${url}/api/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as T;
}

/** Polls until the job is in one of `states`; throws after `ms` naming the state it is stuck in. */
export async function waitJobState<T extends { state: string }>(get: (id: string) => Promise<T>, id: string, states: string[], ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const j = await get(id);
    if (states.includes(j.state)) return j;
    if (Date.now() > end) throw new Error(`job ${id} still ${j.state} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
