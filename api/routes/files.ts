// The files endpoints, under /apis/berth/v1alpha1/files: the caller's own home
// only (admins too), paths checked before any key is made, presigned URLs for the
// bytes (they never pass through the API), an audit entry per change or download,
// and S3 failures as a 503 that names no URL, key or signature. See api/README.md
// "Files". Without BERTH_FILES_BUCKET every endpoint answers 503 with reason
// FilesNotConfigured, which the web UI reads to hide its Files page.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { ApiError, type Status, type StatusReason } from '../../crds/index.ts';
import { type AuditAction, recordAuditAfter } from '../../store/index.ts';
import { auditFrom } from '../audit.ts';
import { parseBody } from '../body.ts';
import { objectBodyFormat } from '../content-types.ts';
import { type ApiDeps, principalOf, withTimeout } from '../context.ts';
import {
  abortBody,
  abortUpload,
  bumpMarker,
  completeBody,
  completeUpload,
  deletePath,
  deleteQuery,
  downloadBody,
  type FilesStore,
  folderBody,
  type Home,
  homeOf,
  listFolder,
  listQuery,
  makeFolder,
  moveBody,
  movePath,
  parseFilesInput,
  partsBody,
  presignDownload,
  presignParts,
  s3ErrorSummary,
  startUpload,
  storageUnavailable,
  uploadBody,
} from '../files/index.ts';
import { API_BASE } from './resources.ts';

const FILES = `${API_BASE}/files`;
const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** 503 with reason FilesNotConfigured: the UI hides its Files page on it. */
class FilesNotConfigured extends ApiError {
  constructor() {
    super(
      'ServiceUnavailable',
      'files are not configured on this installation (BERTH_FILES_BUCKET is not set)',
    );
  }
  override toStatus(): Status {
    return { ...super.toStatus(), reason: 'FilesNotConfigured' as StatusReason };
  }
}

interface Ctx {
  req: FastifyRequest;
  s3: FilesStore;
  home: Home;
  audit(action: AuditAction, path: string, detail: Record<string, unknown>): Promise<void>;
  /** Bumps the home's change marker so running tools list it now (best effort). */
  changed(): Promise<void>;
}

interface FilesMetrics {
  presigned: Counter<'operation'>;
  failures: Counter<'operation'>;
}

function filesMetrics(deps: ApiDeps): FilesMetrics {
  const registers = [deps.metrics.registry];
  return {
    presigned: new Counter({
      name: 'berth_api_files_presigned_urls_total',
      help: 'Presigned S3 URLs handed out by the files endpoints, by operation',
      labelNames: ['operation'],
      registers,
    }),
    failures: new Counter({
      name: 'berth_api_files_storage_errors_total',
      help: 'Files requests that failed because S3 failed or refused, by operation',
      labelNames: ['operation'],
      registers,
    }),
  };
}

function bodyOf(req: FastifyRequest, deps: ApiDeps): unknown {
  const raw = req.body as Buffer | undefined;
  if (!raw || raw.length === 0) return undefined;
  return parseBody(raw, objectBodyFormat(req.headers['content-type']), deps.config.maxBodyDepth);
}

export function registerFilesRoutes(
  app: FastifyInstance,
  deps: ApiDeps,
  s3: FilesStore | undefined,
): void {
  const metrics = filesMetrics(deps);

  /** One endpoint: its methods, and the work done for each once the caller's home is known. */
  function endpoint(
    url: string,
    operation: string,
    handlers: Record<string, (c: Ctx) => Promise<unknown>>,
  ): void {
    const allowed = Object.keys(handlers);
    app.route({
      method: ALL_METHODS,
      url,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const p = principalOf(req);
        const handle = handlers[req.method];
        if (!handle) {
          reply.header('Allow', allowed.join(', '));
          throw new ApiError(
            'MethodNotAllowed',
            `method ${req.method} is not allowed here; allowed: ${allowed.join(', ')}`,
          );
        }
        if (!s3) throw new FilesNotConfigured();
        const home = await homeOf(deps.identity, p);
        const who = auditFrom(req, p);
        const ctx: Ctx = {
          req,
          s3,
          home,
          changed: () => bumpMarker(s3, home, req.log),
          audit: (action, path, detail) =>
            recordAuditAfter(
              deps.pool,
              {
                ...who,
                action,
                target: {
                  kind: action === 'folder.created' ? 'Folder' : 'File',
                  name: path.length > 253 ? `${path.slice(0, 250)}...` : path,
                  user: p.name,
                },
                detail,
              },
              req.log,
            ),
        };
        try {
          return await withTimeout(handle(ctx), deps.config.requestTimeoutMs, `${operation}`);
        } catch (err) {
          if (err instanceof ApiError) throw err;
          metrics.failures.inc({ operation });
          // The name and status only: an SDK error's message may quote the request.
          req.log.warn({ s3: s3ErrorSummary(err), operation }, 'file storage request failed');
          throw storageUnavailable();
        }
      },
    });
  }

  endpoint(FILES, 'files', {
    GET: async ({ req, s3, home }) => {
      const q = parseFilesInput(listQuery, req.query, 'list files');
      return await listFolder(s3, home, q.path ?? '', {
        ...(q.limit ? { limit: q.limit } : {}),
        ...(q.continue ? { continue: q.continue } : {}),
      });
    },
    DELETE: async (c) => {
      const q = parseFilesInput(deleteQuery, c.req.query, 'delete files');
      const done = await deletePath(c.s3, c.home, q.path, q.recursive ?? false);
      await c.changed();
      await c.audit('file.deleted', q.path.replace(/\/$/, ''), {
        path: q.path.replace(/\/$/, ''),
        type: done.type,
        objects: done.deleted,
      });
      return { deleted: done.deleted };
    },
  });

  endpoint(`${FILES}/download`, 'download', {
    POST: async (c) => {
      const body = parseFilesInput(downloadBody, bodyOf(c.req, deps), 'download');
      const signed = await presignDownload(c.s3, c.home, body.path);
      metrics.presigned.inc({ operation: 'download' });
      await c.audit('file.downloaded', body.path, { path: body.path, size: signed.size });
      return { url: signed.url, expiresAt: signed.expiresAt };
    },
  });

  endpoint(`${FILES}/upload`, 'upload', {
    POST: async (c) => {
      const body = parseFilesInput(uploadBody, bodyOf(c.req, deps), 'upload');
      const started = await startUpload(c.s3, c.home, body);
      if (started.kind === 'single') metrics.presigned.inc({ operation: 'upload' });
      return started;
    },
  });

  endpoint(`${FILES}/upload/parts`, 'upload-parts', {
    POST: async (c) => {
      const body = parseFilesInput(partsBody, bodyOf(c.req, deps), 'upload parts');
      const out = await presignParts(c.s3, c.home, body);
      metrics.presigned.inc({ operation: 'upload-part' }, out.parts.length);
      return out;
    },
  });

  endpoint(`${FILES}/upload/complete`, 'upload-complete', {
    POST: async (c) => {
      const body = parseFilesInput(completeBody, bodyOf(c.req, deps), 'complete upload');
      const done = await completeUpload(c.s3, c.home, body);
      await c.changed();
      await c.audit('file.uploaded', done.path, {
        path: done.path,
        size: done.size,
        ...(body.uploadId ? { parts: body.parts?.length ?? 0 } : {}),
      });
      return done;
    },
  });

  endpoint(`${FILES}/upload/abort`, 'upload-abort', {
    POST: async (c) => {
      const body = parseFilesInput(abortBody, bodyOf(c.req, deps), 'abort upload');
      await abortUpload(c.s3, c.home, body);
      return {};
    },
  });

  endpoint(`${FILES}/folders`, 'folders', {
    POST: async (c) => {
      const body = parseFilesInput(folderBody, bodyOf(c.req, deps), 'new folder');
      const path = await makeFolder(c.s3, c.home, body.path);
      await c.changed();
      await c.audit('folder.created', path, { path });
      return { path };
    },
  });

  endpoint(`${FILES}/move`, 'move', {
    POST: async (c) => {
      const body = parseFilesInput(moveBody, bodyOf(c.req, deps), 'move');
      const done = await movePath(c.s3, c.home, body);
      await c.changed();
      const from = body.from.replace(/\/$/, '');
      const to = body.to.replace(/\/$/, '');
      await c.audit('file.moved', from, { from, to, type: done.type, objects: done.moved });
      return { moved: done.moved };
    },
  });
}
