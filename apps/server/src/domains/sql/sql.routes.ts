import { sql as contracts } from '@weir/contracts';
import type { z } from 'zod';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import type { SqlService } from './sql.service.ts';

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
      handler: (i, c) => svc.execute(c.principal, i),
    }),
    r({
      method: 'GET',
      paths: ['/api/2.0/sql/statements/:statement_id'],
      summary: 'Get a statement status and first result chunk',
      input: contracts.StatementById,
      handler: (i, c) => svc.get(c.principal, i.statement_id),
    }),
    r({
      method: 'GET',
      paths: ['/api/2.0/sql/statements/:statement_id/result/chunks/:chunk_index'],
      summary: 'Get one result chunk',
      input: contracts.StatementChunk,
      handler: (i, c) => svc.chunk(c.principal, i.statement_id, Number(i.chunk_index)),
    }),
    r({
      method: 'POST',
      paths: ['/api/2.0/sql/statements/:statement_id/cancel'],
      summary: 'Cancel a statement',
      input: contracts.StatementById,
      handler: (i, c) => svc.cancel(c.principal, i.statement_id),
    }),
  ];
}
