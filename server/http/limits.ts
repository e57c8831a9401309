/**
 * Request limits of the HTTP server: requests per minute per address (@fastify/rate-limit), and
 * refused credentials per address (a 401 counts; past auth_failures_per_minute the address gets
 * 429 for everything until the minute has passed). Both answer in the API's error shape.
 */
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { AuthFailureLimiter } from '../auth/failure-limiter.js';

export async function registerLimits(app: FastifyInstance, o: { requestsPerMinute: number; failures: AuthFailureLimiter }): Promise<void> {
  app.addHook('onRequest', async (req, reply) => {
    const wait = o.failures.retryAfterSec(req.ip);
    if (wait > 0) {
      return reply
        .code(429)
        .header('retry-after', String(wait))
        .send({ ok: false, error: `too many refused credentials from ${req.ip}: try again in ${wait} s`, code: 'rate-limited' });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode === 401) o.failures.fail(req.ip);
  });
  await app.register(rateLimit, {
    max: o.requestsPerMinute,
    timeWindow: 60_000,
    // thrown to the routes' error handler, which answers 429 { ok: false, error, code: 'rate-limited' }
    errorResponseBuilder: (_req, ctx) => Object.assign(new Error(`more than ${ctx.max} requests a minute from this address: try again in ${Math.ceil(ctx.ttl / 1000)} s`), { statusCode: 429 }),
  });
}
