/**
 * Sessions at run time (admin key), over server/session/session-manager.ts:
 *   POST   /api/sessions       multipart: `portrait` (PNG/JPEG) and fields id, name?, voice?, preset?  -> 201 { session }
 *   GET    /api/sessions/:id   the session's settings and stats
 *   PATCH  /api/sessions/:id   multipart or JSON: name?, voice? ("" = the server's), preset?, portrait? -> { session, restarted }
 *   DELETE /api/sessions/:id   its kiosks are told ('session-ended'), it is closed and forgotten -> { released }
 * Refusals: 401 no or a wrong credential (a kiosk token too), 400 a bad field, 409 the id exists,
 * 413 a portrait over jobs.portrait_upload_bytes, 415 not a PNG/JPEG, 422 a photo without a usable
 * face (the reason said), 404 no such session. Every call, refused or not, is in the audit log.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SESSION_ID, sessionSchema, type Config, type SessionSpec } from '../../config/schema.js';
import { AuthError, type Authenticator } from '../auth/authenticator.js';
import type { AuditLog } from '../audit-log.js';
import { BadRequestError, SessionNotFoundError } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import type { SessionManager } from '../session/session-manager.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { failure } from '../signalling/results.js';
import { actorOf } from './actor.js';
import { IMAGE_TYPES } from './image-type.js';
import { bearer, HTTP_STATUS, refuseCredential } from './routes.js';

export interface SessionRouteDeps {
  config: Config;
  auth: Authenticator;
  metrics: ServerMetrics;
  manager: SessionManager;
  registry: SessionRegistry;
  audit: AuditLog;
}

class UploadRefused extends Error {
  constructor(message: string, readonly status: 413 | 415) {
    super(message);
  }
}

const fields = sessionSchema.omit({ portrait: true, captions: true }).extend({
  // a form field is text: "true" / "false"
  captions: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).optional(),
});
const changes = z.strictObject({
  name: fields.shape.name,
  voice: z.union([z.literal('').transform(() => null), fields.shape.voice.unwrap()]).optional(),
  preset: fields.shape.preset,
  captions: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).optional(),
  fit: fields.shape.fit,
});

interface Form {
  values: Record<string, string>;
  portrait?: { bytes: Uint8Array; ext: string };
}

export async function registerSessionRoutes(app: FastifyInstance, deps: SessionRouteDeps): Promise<void> {
  const { config, auth, metrics, manager, registry, audit } = deps;
  const maxPortrait = config.jobs.portrait_upload_bytes;

  const admin = (req: FastifyRequest): void => {
    if (!auth.isAdmin(bearer(req))) throw new AuthError('this call needs the admin key (Authorization: Bearer <admin key>)');
  };

  /** answers, and writes the audit line of a change (refusals included; reads are not audited) */
  const finish = (req: FastifyRequest, reply: FastifyReply, action: string, target: string | undefined, run: () => Promise<{ status?: number; body: Record<string, unknown>; detail?: Record<string, unknown> }>) => {
    const audited = action !== 'session.read';
    return run().then(
      ({ status = 200, body, detail }) => {
        if (audited) audit.record({ actor: actorOf(req), from: req.ip, action, target, result: 'ok', detail });
        return reply.code(status).send({ ok: true, ...body });
      },
      (e: unknown) => {
        if (e instanceof AuthError) {
          if (audited) audit.record({ actor: 'unauthenticated', from: req.ip, action, target, result: 'forbidden' });
          return refuseCredential(reply, e, metrics);
        }
        if (e instanceof UploadRefused || (e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
          const status = e instanceof UploadRefused ? e.status : 413;
          const error = e instanceof UploadRefused ? e.message : `the portrait is over ${maxPortrait} bytes (jobs.portrait_upload_bytes)`;
          if (audited) audit.record({ actor: actorOf(req), from: req.ip, action, target, result: 'bad-request', detail: { error } });
          return reply.code(status).send({ ok: false, error, code: 'bad-request' });
        }
        const f = failure(e instanceof z.ZodError ? new BadRequestError(e.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')) : e);
        if (f.code === 'internal') req.log.error({ err: e, action, target }, 'session request failed');
        if (audited) audit.record({ actor: actorOf(req), from: req.ip, action, target, result: f.code, detail: { error: f.error } });
        return reply.code(HTTP_STATUS[f.code] ?? 500).send(f);
      },
    );
  };

  /** a multipart form (text fields and at most one `portrait`) or a JSON object of text fields */
  const readForm = async (req: FastifyRequest): Promise<Form> => {
    if (!req.isMultipart()) {
      const body = req.body ?? {};
      if (typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('send multipart/form-data or a JSON object');
      return { values: Object.fromEntries(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, String(v)])) };
    }
    const form: Form = { values: {} };
    for await (const part of req.parts({ limits: { fileSize: maxPortrait, files: 1, fields: 8, fieldSize: 256, parts: 9 } })) {
      if (part.type === 'file') {
        if (part.fieldname !== 'portrait') throw new BadRequestError(`unexpected file field "${part.fieldname}" (expected portrait)`);
        const bytes = await part.toBuffer();
        const type = IMAGE_TYPES.find((t) => t.test(bytes));
        if (!type) throw new UploadRefused('the portrait must be a PNG or JPEG photo', 415);
        form.portrait = { bytes, ext: type.ext };
      } else form.values[part.fieldname] = String(part.value);
    }
    return form;
  };

  const view = (spec: SessionSpec) => {
    const s = registry.get(spec.id);
    return { id: spec.id, ...manager.settings(spec), fromConfig: manager.fromConfig(spec.id), info: s?.info, stats: s?.stats() };
  };
  const idParam = (req: FastifyRequest) => {
    const id = (req.params as { id: string }).id;
    if (!SESSION_ID.test(id)) throw new BadRequestError('id: must be 1-32 of a-z, 0-9 and -, starting with a letter or digit');
    return id;
  };

  app.post('/api/sessions', (req, reply) =>
    finish(req, reply, 'session.create', undefined, async () => {
      admin(req);
      const form = await readForm(req);
      const spec = fields.parse(form.values);
      if (!form.portrait) throw new BadRequestError('a `portrait` file (PNG or JPEG) is required');
      await manager.create(spec, form.portrait);
      return { status: 201, body: { session: view(manager.spec(spec.id)!) }, detail: { id: spec.id, name: spec.name, voice: spec.voice, preset: spec.preset } };
    }),
  );

  app.get('/api/sessions/:id', (req, reply) =>
    finish(req, reply, 'session.read', (req.params as { id: string }).id, async () => {
      admin(req);
      const id = idParam(req);
      const spec = manager.spec(id);
      const failed = manager.failure(id);
      if (failed) return { body: { session: { ...view(failed.spec), state: 'failed', error: failed.error } } };
      if (!spec) throw new SessionNotFoundError(`no session "${id}" on this server`);
      return { body: { session: view(spec) } };
    }),
  );

  app.patch('/api/sessions/:id', (req, reply) =>
    finish(req, reply, 'session.update', (req.params as { id: string }).id, async () => {
      admin(req);
      const id = idParam(req);
      const form = await readForm(req);
      const change = changes.parse(form.values);
      const { spec, restarted } = await manager.update(id, { ...change, portrait: form.portrait });
      return { body: { session: view(spec), restarted }, detail: { ...change, portrait: form.portrait ? `${form.portrait.bytes.length} bytes` : undefined, restarted } };
    }),
  );

  app.delete('/api/sessions/:id', (req, reply) =>
    finish(req, reply, 'session.delete', (req.params as { id: string }).id, async () => {
      admin(req);
      const released = await manager.remove(idParam(req));
      return { body: { released }, detail: released };
    }),
  );
}
