/**
 * Batch video jobs over HTTP (an admin key, or a token with the 'render' scope: role `author`):
 *   POST   /api/jobs                multipart/form-data: `portrait` (PNG/JPEG file) and either `audio`
 *                                   (an audio file) or `text`; optional `preset` (fast|quality) and `size` (e.g. 720x1280)
 *                                   -> 202 { id, state, links }
 *   GET    /api/jobs                the caller's jobs (the admin key: all), newest first
 *   GET    /api/jobs/:id            state, progress 0..1, error, result
 *   GET    /api/jobs/:id/video      the MP4 (when done)
 *   GET    /api/jobs/:id/log        the job's log records
 *   POST   /api/jobs/:id/cancel     stops a queued or running job
 *   DELETE /api/jobs/:id            removes a finished job and its files
 * The page to do the same by hand: /kiosk/jobs.html#token=...
 */
import { createReadStream } from 'node:fs';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config/schema.js';
import { describeNonAudio, sniffAudioContainer } from '../../pipeline/audio/sniff.js';
import { AuthError, requireScope, type Authenticator } from '../auth/authenticator.js';
import { JobConflictError, type JobQueue } from '../jobs/job-queue.js';
import { JobNotFoundError, type JobInput, type JobRecord, type JobStore } from '../jobs/job-store.js';
import type { ServerMetrics } from '../metrics.js';
import { splitSentences } from '../voice/sentences.js';
import { bearer, refuseCredential } from './routes.js';
import { IMAGE_TYPES } from './image-type.js';
import { uploadName } from './upload-name.js';
import { FRAME_SIZE_RULE, parseFrameSize } from '../../config/frame-size.js';

export interface JobRouteDeps {
  config: Config;
  auth: Authenticator;
  metrics: ServerMetrics;
  store: JobStore;
  queue: JobQueue;
}

class UploadError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** Public view of a record: no owner, plus links. */
function view(r: JobRecord) {
  const { owner: _owner, ...rest } = r;
  return { ...rest, links: { self: `/api/jobs/${r.id}`, video: r.state === 'done' ? `/api/jobs/${r.id}/video` : null, log: `/api/jobs/${r.id}/log` } };
}

export async function registerJobRoutes(app: FastifyInstance, deps: JobRouteDeps): Promise<void> {
  const { config, auth, store, queue, metrics } = deps;
  const maxFile = Math.max(config.limits.audio_upload_bytes, config.jobs.portrait_upload_bytes);
  await app.register(fastifyMultipart, { limits: { fileSize: maxFile, files: 2, fields: 4, fieldSize: config.voice.max_text_chars * 4 + 1024, parts: 6 } });

  /** the caller's identity: "admin" or the token's id */
  const caller = (req: FastifyRequest): string => {
    const cred = bearer(req);
    if (auth.isAdmin(cred)) return 'admin';
    const p = auth.authenticate(cred);
    requireScope(p, 'render');
    return p.tokenId ?? 'token';
  };
  const owned = (req: FastifyRequest, id: string): JobRecord => {
    const who = caller(req);
    const r = store.get(id);
    if (who !== 'admin' && r.owner !== who) throw new JobNotFoundError(`no job "${id}"`);
    return r;
  };
  const send = (reply: FastifyReply, e: unknown) => {
    const err = e as Error & { statusCode?: number; code?: string };
    if (e instanceof AuthError) return refuseCredential(reply, e, metrics);
    const status =
      e instanceof UploadError ? e.status
      : e instanceof JobNotFoundError ? 404
      : e instanceof JobConflictError ? 409
      : err.name === 'ForbiddenError' ? 403
      : err.code === 'FST_REQ_FILE_TOO_LARGE' || err.statusCode === 413 ? 413
      : err.statusCode && err.statusCode < 500 ? err.statusCode
      : 500;
    if (status >= 500) app.log.error({ err: e }, 'job request failed');
    const code = status === 401 || status === 403 ? 'forbidden' : status === 429 ? 'queue-full' : status >= 500 ? 'internal' : 'bad-request';
    const message = status === 413 ? `an upload is over its size limit (audio ${config.limits.audio_upload_bytes} bytes, portrait ${config.jobs.portrait_upload_bytes} bytes)` : err.message;
    return reply.code(status).send({ ok: false, error: message, code });
  };

  /**
   * What reading the multipart body can throw, as the caller's mistake: too many parts or files is
   * not a size problem (400 saying so); a body the parser cannot read is malformed (400), not an
   * internal error. Our own refusals and the size limits pass as they are.
   */
  const uploadFailure = (e: unknown): unknown => {
    const err = e as Error & { code?: string; statusCode?: number };
    if (e instanceof UploadError || e instanceof z.ZodError || err.code === 'FST_REQ_FILE_TOO_LARGE') return e;
    if (err.code === 'FST_PARTS_LIMIT' || err.code === 'FST_FILES_LIMIT' || err.code === 'FST_FIELDS_LIMIT') {
      return new UploadError('too many parts: a job takes a `portrait` file, an `audio` file or a `text` field, a `preset` and a `size`', 400);
    }
    if (err.statusCode === undefined || err.statusCode >= 500) return new UploadError(`malformed multipart body: ${err.message}`, 400);
    return e;
  };

  app.post('/api/jobs', async (req, reply) => {
    try {
      const owner = caller(req);
      if (!req.isMultipart()) throw new UploadError('send multipart/form-data with a `portrait` file and an `audio` file or a `text` field', 415);
      const files: Record<string, Uint8Array> = {};
      const uploads: JobInput['uploads'] = [];
      let audio: string | null = null;
      let portrait: string | null = null;
      let text: string | null = null;
      let preset: 'fast' | 'quality' = config.preset;
      let size: { width: number; height: number } | undefined;
      try {
        for await (const part of req.parts()) {
          if (part.type === 'file') {
            const bytes = await part.toBuffer();
            uploads.push({ field: part.fieldname, name: uploadName(part.filename, part.fieldname), bytes: bytes.length });
            if (part.fieldname === 'audio') {
              if (bytes.length > config.limits.audio_upload_bytes) throw new UploadError(`the audio file has ${bytes.length} bytes, at most ${config.limits.audio_upload_bytes} are taken`, 413);
              const kind = sniffAudioContainer(bytes.subarray(0, 64));
              if (!kind) throw new UploadError(`the audio upload is not an audio file: ${describeNonAudio(bytes.subarray(0, 64))}`, 415);
              audio = `audio.${kind}`;
              files[audio] = bytes;
            } else if (part.fieldname === 'portrait') {
              if (bytes.length > config.jobs.portrait_upload_bytes) throw new UploadError(`the portrait has ${bytes.length} bytes, at most ${config.jobs.portrait_upload_bytes} are taken`, 413);
              const type = IMAGE_TYPES.find((t) => t.test(bytes));
              if (!type) throw new UploadError('the portrait must be a PNG or JPEG photo', 415);
              portrait = `portrait.${type.ext}`;
              files[portrait] = bytes;
            } else throw new UploadError(`unexpected file field "${part.fieldname}" (expected audio, portrait)`, 400);
          } else if (part.fieldname === 'text') {
            text = String(part.value);
          } else if (part.fieldname === 'preset') {
            preset = z.enum(['fast', 'quality']).parse(part.value, { error: () => 'preset must be fast or quality' });
          } else if (part.fieldname === 'size') {
            size = parseFrameSize(String(part.value));
            if (!size) throw new UploadError(`size must be ${FRAME_SIZE_RULE}`, 400);
          } else throw new UploadError(`unexpected field "${part.fieldname}" (expected audio, text, portrait, preset, size)`, 400);
        }
      } catch (e) {
        throw uploadFailure(e);
      }
      if (!portrait) throw new UploadError('a `portrait` file (PNG or JPEG) is required', 400);
      if (audio && text !== null) throw new UploadError('send either an `audio` file or a `text` field, not both', 400);
      if (!audio) {
        if (text === null) throw new UploadError('an `audio` file or a `text` field is required', 400);
        if (text.length > config.voice.max_text_chars) throw new UploadError(`the text has ${text.length} characters, at most ${config.voice.max_text_chars} are taken (voice.max_text_chars)`, 400);
        if (splitSentences(text).length === 0) throw new UploadError('the text has nothing to speak', 400);
      }
      const waiting = (await queue.stats()).states.queued;
      if (waiting >= config.jobs.max_queued) throw new UploadError(`${waiting} jobs wait already (jobs.max_queued): try again later`, 429);
      const id = store.newId();
      const rec = store.create(id, owner, { audio, text: audio ? null : text, portrait, params: { preset, ...(size ? { size } : {}) }, uploads }, files);
      await queue.submit(id);
      req.log.info({ job: id, kind: audio ? 'audio' : 'text', preset }, 'job submitted');
      return reply.code(202).send({ ok: true, ...view(rec) });
    } catch (e) {
      if (e instanceof z.ZodError) return send(reply, new UploadError(e.issues[0]?.message ?? 'bad field', 400));
      return send(reply, e);
    }
  });

  app.get('/api/jobs', async (req, reply) => {
    try {
      const who = caller(req);
      const jobs = store.list().filter((r) => who === 'admin' || r.owner === who).reverse();
      return { ok: true, jobs: jobs.map(view), queue: await queue.stats() };
    } catch (e) {
      return send(reply, e);
    }
  });

  const idParam = z.object({ id: z.string().max(64) });
  const idOf = (req: FastifyRequest) => idParam.parse(req.params).id;

  app.get('/api/jobs/:id', async (req, reply) => {
    try {
      return { ok: true, ...view(owned(req, idOf(req))) };
    } catch (e) {
      return send(reply, e);
    }
  });

  app.get('/api/jobs/:id/log', async (req, reply) => {
    try {
      const r = owned(req, idOf(req));
      return { ok: true, id: r.id, log: store.readLog(r.id) };
    } catch (e) {
      return send(reply, e);
    }
  });

  app.get('/api/jobs/:id/video', async (req, reply) => {
    try {
      const r = owned(req, idOf(req));
      if (r.state !== 'done') throw new JobConflictError(`job ${r.id} is ${r.state}: its video is there once it is done`);
      return reply
        .header('content-type', 'video/mp4')
        .header('content-disposition', `attachment; filename="talking-${r.id}.mp4"`)
        .header('content-length', String(r.result?.bytes ?? ''))
        .send(createReadStream(store.videoPath(r.id)));
    } catch (e) {
      return send(reply, e);
    }
  });

  app.post('/api/jobs/:id/cancel', async (req, reply) => {
    try {
      const r = owned(req, idOf(req));
      const after = await queue.cancel(r.id);
      req.log.info({ job: r.id, state: after.state }, 'job cancel');
      return { ok: true, ...view(after) };
    } catch (e) {
      return send(reply, e);
    }
  });

  app.delete('/api/jobs/:id', async (req, reply) => {
    try {
      const r = owned(req, idOf(req));
      if (r.state === 'queued' || r.state === 'running') throw new JobConflictError(`job ${r.id} is ${r.state}: cancel it first`);
      store.remove(r.id);
      return { ok: true, id: r.id };
    } catch (e) {
      return send(reply, e);
    }
  });
}
