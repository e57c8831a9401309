/** The audit log: one JSON line per action, mode 0600, rotated past its size with `keep` old files. */
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../server/audit-log.js';

describe('AuditLog', () => {
  it('appends who, from where, what and how it ended; rotates to file.1 .. file.keep past max bytes', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-')), 'sub', 'admin.log');
    const log = new AuditLog(file, 2048, 2);
    log.record({ actor: 'console:abcd1234', from: '10.0.0.7', action: 'session.create', target: 'hall-a', result: 'ok', detail: { name: 'Hall A' } });
    const first = JSON.parse(readFileSync(file, 'utf8').trim()) as Record<string, unknown>;
    expect(first).toMatchObject({ actor: 'console:abcd1234', from: '10.0.0.7', action: 'session.create', target: 'hall-a', result: 'ok', detail: { name: 'Hall A' } });
    expect(Date.now() - Date.parse(first.time as string)).toBeLessThan(5000);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    for (let i = 0; i < 100; i++) log.record({ actor: 'admin-key', from: '127.0.0.1', action: 'token.mint', target: `t${i}`, result: 'ok' });
    expect(statSync(file).size).toBeLessThanOrEqual(2048);
    expect(statSync(`${file}.1`).size).toBeLessThanOrEqual(2048);
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    // the newest line is in the file, the lines before it in .1, nothing cut in half
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { target: string });
    expect(lines.at(-1)!.target).toBe('t99');
    const older = readFileSync(`${file}.1`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { target: string });
    expect(Number(older.at(-1)!.target.slice(1)) + 1).toBe(Number(lines[0]!.target.slice(1)));
  });
});
