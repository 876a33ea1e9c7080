/**
 * The admin API on the admin port (docs/DEPLOYMENT.md, "Remote administration"): `POST /admin` with
 * `Authorization: Bearer <admin-token>` and a JSON request (server/admin-requests.ts), the console's
 * commands from another machine or a script. The token is compared in constant time; a request without
 * it, or with another, is answered 401 and does nothing. Each request is logged (who, from where, what,
 * and how it ended); the action itself also logs its "admin" line, as from the console. In a cluster the
 * action reaches the whole room as the console's does (ServerAdmin: through the database and the bus).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { type AdminContext, type AdminRequest, parseAdminRequest, requestTarget, runAdminRequest } from '../server/admin-requests.js';
import { ServerError } from '../server/errors.js';
import type { ServerAdmin } from '../server/handlers/admin.js';
import type { ServerLog } from '../server/log.js';

export const ADMIN_PATH = '/admin';
/** A request is a command and a name or two: anything longer is not one. */
const MAX_BODY_BYTES = 16 * 1024;
/** Who the caller says it is (the `X-LanChat-Operator` header), as logged: not authenticated, the token is. */
const MAX_OPERATOR_LENGTH = 100;

/** The HTTP status of a refused action. */
const STATUS: Partial<Record<string, number>> = {
  [ErrorCode.BAD_REQUEST]: 400,
  [ErrorCode.NAME_INVALID]: 400,
  [ErrorCode.UNKNOWN_USER]: 404,
  [ErrorCode.INVALID_TARGET]: 409,
};

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export class AdminApi {
  /** Hashed, so that both sides of the comparison have one length whatever was sent. */
  private readonly tokenDigest: Buffer;

  constructor(
    token: string,
    private readonly admin: ServerAdmin,
    private readonly log: ServerLog,
    private readonly context: AdminContext = {},
  ) {
    this.tokenDigest = digest(token);
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const answer = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void => {
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
      response.end(`${JSON.stringify(body)}\n`);
    };
    const refuse = (status: number, code: string, message: string, headers?: Record<string, string>): void =>
      answer(status, { ok: false, error: { code, message } }, headers);
    const from = request.socket.remoteAddress ?? 'unknown';
    const operator = operatorOf(request);
    if (!this.authorized(request.headers.authorization)) {
      // The body is not read: nothing of an unauthenticated request is acted on.
      this.log.warn('admin request refused', { from, operator, reason: request.headers.authorization === undefined ? 'no token' : 'wrong token' });
      request.resume();
      return refuse(401, 'UNAUTHORIZED', 'missing or wrong admin token (Authorization: Bearer <admin-token>)', { 'www-authenticate': 'Bearer realm="lanchat-admin"' });
    }
    if (request.method !== 'POST') return refuse(405, 'METHOD_NOT_ALLOWED', 'POST a JSON request to /admin', { allow: 'POST' });
    if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
      request.resume();
      return refuse(415, 'UNSUPPORTED_MEDIA_TYPE', 'the request is JSON: Content-Type: application/json');
    }
    let parsed: AdminRequest;
    try {
      parsed = parseAdminRequest(JSON.parse(await readBody(request)));
    } catch (error) {
      const message = error instanceof ServerError ? error.message : error instanceof SyntaxError ? `not JSON: ${error.message}` : String(error instanceof Error ? error.message : error);
      const status = error instanceof BodyTooLarge ? 413 : 400;
      this.log.warn('admin request refused', { from, operator, reason: message });
      return refuse(status, status === 413 ? 'TOO_LARGE' : ErrorCode.BAD_REQUEST, message);
    }
    const fields = { from, operator, command: parsed.command, ...requestTarget(parsed) };
    try {
      const { result, lines } = await runAdminRequest(this.admin, parsed, this.context);
      this.log.info('admin request', { ...fields, outcome: 'done' });
      answer(200, { ok: true, ...result, lines });
    } catch (error) {
      if (!(error instanceof ServerError)) {
        this.log.error('admin request failed', { ...fields, error: error instanceof Error ? error.message : String(error) });
        return refuse(500, ErrorCode.INTERNAL, 'the request was not carried out (the server log says why)');
      }
      this.log.info('admin request', { ...fields, outcome: 'refused', code: error.code, reason: error.message });
      refuse(STATUS[error.code] ?? 400, error.code, error.message);
    }
  }

  private authorized(header: string | undefined): boolean {
    const match = /^Bearer +(\S+)\s*$/i.exec(header ?? '');
    // Compared whatever the header held, so a missing token takes as long as a wrong one.
    return timingSafeEqual(digest(match?.[1] ?? ''), this.tokenDigest) && match !== null;
  }
}

function operatorOf(request: IncomingMessage): string {
  const raw = request.headers['x-lanchat-operator'];
  const said = Array.isArray(raw) ? raw[0] : raw;
  return said ? said.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(0, MAX_OPERATOR_LENGTH) : '(not said)';
}

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.removeAllListeners('data');
        request.resume();
        reject(new BodyTooLarge(`the request is larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
