/**
 * What `npm start` prints once the server runs. The kiosk and job-page links carry tokens, so they
 * are printed only to a terminal (a person starting the server by hand) and live
 * `auth.start_link_hours`; under a service manager, whose standard output is a log, the banner says
 * how to mint a token instead. Kiosks installed for good get a named token of their own from
 * POST /api/tokens (revocable, `auth.kiosk_token_days`).
 */
import type { Config } from '../config/schema.js';
import type { RunningServer } from './app.js';

export function startBanner(server: Pick<RunningServer, 'url' | 'sessions' | 'cluster' | 'kioskUrl'>, config: Config, terminal: boolean): string[] {
  const lines: string[] = [];
  const sessions = server.sessions.all();
  const ttlSec = Math.round(config.auth.start_link_hours * 3600);
  if (terminal) {
    for (const s of sessions) lines.push(`kiosk for session "${s.id}": ${server.kioskUrl(s.id, 'kiosk', ttlSec)}`);
    const first = sessions[0];
    if (first) lines.push(`batch video jobs (page): ${server.kioskUrl(first.id, 'author', ttlSec).replace('/kiosk/#', '/kiosk/jobs.html#')}`);
    lines.push(`(these links expire in ${config.auth.start_link_hours} h; a kiosk that stays gets a token of its own: POST /api/tokens with the admin key)`);
  } else {
    lines.push(`sessions: ${sessions.map((s) => s.id).join(', ') || 'none'}; kiosk links are printed on a terminal only (they hold tokens): mint one with POST /api/tokens and the admin key`);
  }
  if (server.cluster) {
    const elsewhere = server.cluster.elsewhere().map((e) => `${e.id} (node ${e.node})`);
    lines.push(`cluster node ${server.cluster.id}; sessions of other nodes kiosks may watch here: ${elsewhere.join(', ') || 'none yet'} (tokens: POST /api/tokens with the admin key)`);
  }
  lines.push(`operator console: ${server.url}/admin/ (sign in with the admin key in ${config.auth.admin_key_file})`);
  lines.push(`health: ${server.url}/healthz   metrics: ${server.url}/metrics   admin key: ${config.auth.admin_key_file}`);
  return lines;
}
