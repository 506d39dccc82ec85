import { sql as contracts } from '@weir/contracts';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import type { SqlService } from './sql.service.ts';

/** Where this server was reached, for the absolute URLs of external links. */
function origin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** The Statement Execution API. */
export function sqlRoutes(svc: SqlService): RouteSpec[] {
  const r = <S extends z.ZodObject>(spec: Omit<RouteSpec<S>, 'tag' | 'auth'>) =>
    defineRoute({ ...spec, tag: 'sql', auth: 'authenticated' }) as unknown as RouteSpec;
  return [
    r({
      method: 'POST',
      paths: ['/api/2.0/sql/statements', '/api/2.0/sql/statements/'],
      summary: 'Execute a SQL statement',
      input: contracts.ExecuteStatement,
      handler: (i, c) => svc.execute(c.principal, i, origin(c.request)),
    }),
    r({
      method: 'GET',
      paths: ['/api/2.0/sql/statements/:statement_id'],
      summary: 'Get a statement status and first result chunk',
      input: contracts.StatementById,
      handler: (i, c) => svc.get(c.principal, i.statement_id, origin(c.request)),
    }),
    r({
      method: 'GET',
      paths: ['/api/2.0/sql/statements/:statement_id/result/chunks/:chunk_index'],
      summary: 'Get one result chunk',
      input: contracts.StatementChunk,
      handler: (i, c) => svc.chunk(c.principal, i.statement_id, Number(i.chunk_index), origin(c.request)),
    }),
    defineRoute({
      method: 'GET',
      paths: ['/api/2.0/sql/statements/:statement_id/result/chunks/:chunk_index/download'],
      summary: 'Download one result chunk through its external link (signed; no token needed)',
      tag: 'sql',
      // The link's signature is the credential, as with the presigned URLs Databricks hands out.
      auth: 'public',
      input: contracts.StatementChunkDownload,
      handler: (i, c) => {
        const { bytes, contentType } = svc.download(i.statement_id, Number(i.chunk_index), Number(i.expires), i.signature);
        return c.reply.header('content-type', contentType).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      },
    }) as unknown as RouteSpec,
    r({
      method: 'POST',
      paths: ['/api/2.0/sql/statements/:statement_id/cancel'],
      summary: 'Cancel a statement',
      input: contracts.StatementById,
      handler: (i, c) => svc.cancel(c.principal, i.statement_id),
    }),
  ];
}
