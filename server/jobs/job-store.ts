/**
 * Batch jobs on disk: one folder per job under `jobs.dir`, the source of truth for both queues.
 *
 *   <dir>/<id>/job.json     the record (written whole to a temporary file, then renamed: a crash
 *                           never leaves half a record)
 *   <dir>/<id>/audio.<ext>  the uploaded audio, or speech.wav synthesised from the job's text
 *   <dir>/<id>/portrait.<ext>
 *   <dir>/<id>/video.mp4    the result
 *   <dir>/<id>/log.jsonl    the job's log: one JSON record per line (inputs, stages, result)
 *   <dir>/<id>/cancel       present once a cancel was asked for while another process runs the
 *                           job (a file of its own: the runner rewrites job.json with its progress,
 *                           and a flag in it could be lost between two processes' writes)
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobInput {
  /** file name of the audio in the job folder, or null for a text job */
  audio: string | null;
  /** the text to speak (text jobs) */
  text: string | null;
  portrait: string;
  /** parameters the job renders with */
  params: { preset: 'fast' | 'quality'; /** the frame size (avatar.width x avatar.height); the server's when absent */ size?: { width: number; height: number } };
  /** original names and sizes of the uploads, for the log */
  uploads: { field: string; name: string; bytes: number }[];
}

export interface JobRecord {
  id: string;
  state: JobState;
  /** who submitted it: a token id, or "admin" */
  owner: string;
  input: JobInput;
  createdAt: string;
  /**
   * submission time in ms with a fraction (performance.timeOrigin + now()): orders jobs submitted
   * within one millisecond, which createdAt cannot (records written before it lack it)
   */
  submittedMs?: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** 0..1 */
  progress: number;
  /** times the job was started (a restart or a lost worker starts it again) */
  attempts: number;
  /** who runs or ran it: host and pid */
  worker: string | null;
  error: string | null;
  result: { durationSec: number; frames: number; width: number; height: number; fps: number; bytes: number; wallSec: number; stagesMs: Record<string, number> } | null;
}

export const TERMINAL: ReadonlySet<JobState> = new Set(['done', 'failed', 'cancelled']);
const ID = /^[a-z0-9]{16}$/;

export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError';
}

export class JobStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  newId(): string {
    return randomBytes(10).toString('hex').slice(0, 16);
  }

  folder(id: string): string {
    if (!ID.test(id)) throw new JobNotFoundError(`no job "${id}"`);
    return join(this.dir, id);
  }

  /** Creates the job folder with its files, then the record (queued). */
  create(id: string, owner: string, input: JobInput, files: Record<string, Uint8Array>): JobRecord {
    const folder = this.folder(id);
    mkdirSync(folder, { mode: 0o700 });
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(folder, name), bytes);
    const rec: JobRecord = {
      id, state: 'queued', owner, input, createdAt: new Date().toISOString(), submittedMs: performance.timeOrigin + performance.now(), startedAt: null, finishedAt: null,
      progress: 0, attempts: 0, worker: null, error: null, result: null,
    };
    this.write(rec);
    this.log(id, { event: 'submitted', input: { kind: input.audio ? 'audio' : 'text', text: input.text, uploads: input.uploads, params: input.params } });
    return rec;
  }

  get(id: string): JobRecord {
    const path = join(this.folder(id), 'job.json');
    if (!existsSync(path)) throw new JobNotFoundError(`no job "${id}"`);
    return JSON.parse(readFileSync(path, 'utf8')) as JobRecord;
  }

  /** Every job, oldest first (in submission order). Folders without a readable record (a crash mid-create) are skipped. */
  list(): JobRecord[] {
    const out: JobRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!ID.test(name)) continue;
      try {
        out.push(this.get(name));
      } catch {
        /* half-created: no record */
      }
    }
    const at = (r: JobRecord) => r.submittedMs ?? Date.parse(r.createdAt);
    return out.sort((a, b) => at(a) - at(b));
  }

  update(id: string, patch: Partial<JobRecord>): JobRecord {
    const rec = { ...this.get(id), ...patch };
    this.write(rec);
    return rec;
  }

  log(id: string, record: Record<string, unknown>): void {
    appendFileSync(join(this.folder(id), 'log.jsonl'), `${JSON.stringify({ t: new Date().toISOString(), ...record })}\n`);
  }

  readLog(id: string): Record<string, unknown>[] {
    const path = join(this.folder(id), 'log.jsonl');
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  requestCancel(id: string): void {
    writeFileSync(join(this.folder(id), 'cancel'), new Date().toISOString());
  }

  cancelRequested(id: string): boolean {
    return existsSync(join(this.folder(id), 'cancel'));
  }

  videoPath(id: string): string {
    return join(this.folder(id), 'video.mp4');
  }

  remove(id: string): void {
    rmSync(this.folder(id), { recursive: true, force: true });
  }

  private write(rec: JobRecord): void {
    writeFileAtomic(join(this.folder(rec.id), 'job.json'), JSON.stringify(rec, null, 1));
  }
}
