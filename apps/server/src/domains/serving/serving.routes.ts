import { serving, servingPermissions } from '@weir/contracts';
import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../../platform/http.ts';
import { answerInvocation, SERVED_ENTITY_HEADER, SERVED_MODEL_NAME_HEADER } from './serving.invocation.ts';
import type { ServingService } from './serving.service.ts';

export { MAX_INVOCATION_BYTES, SERVED_ENTITY_HEADER } from './serving.invocation.ts';

/** The scoring route's path, at the host root as the SDKs call it. */
export const INVOCATIONS_PATH = '/serving-endpoints/:name/invocations';

const BASE = '/api/2.0/serving-endpoints';
const PERMISSIONS = '/api/2.0/permissions/serving-endpoints';

/** The serving routes: the Databricks endpoints API and the scoring route at the host root. */
export function servingRoutes(service: ServingService): RouteSpec[] {
  return [
    defineRoute({
      method: 'POST',
      paths: [BASE],
      summary: 'Create a serving endpoint',
      tag: 'serving',
      auth: 'authenticated',
      input: serving.CreateServingEndpoint,
      handler: (input, { principal }) => service.create(principal, input),
    }),
    defineRoute({
      method: 'GET',
      paths: [BASE],
      summary: 'List serving endpoints',
      tag: 'serving',
      auth: 'authenticated',
      input: z.object({}),
      handler: (_input, { principal }) => service.list(principal),
    }),
    defineRoute({
      method: 'GET',
      paths: [`${BASE}/:name`],
      summary: 'Get a serving endpoint',
      tag: 'serving',
      auth: 'authenticated',
      input: serving.ServingEndpointName,
      handler: (input, { principal }) => service.get(principal, input.name),
    }),
    defineRoute({
      method: 'DELETE',
      paths: [`${BASE}/:name`],
      summary: 'Delete a serving endpoint',
      tag: 'serving',
      auth: 'authenticated',
      input: serving.ServingEndpointName,
      handler: (input, { principal }) => service.remove(principal, input.name),
    }),
    defineRoute({
      method: 'PUT',
      paths: [`${BASE}/:name/config`],
      summary: "Update a serving endpoint's served entities, traffic and capture config",
      tag: 'serving',
      auth: 'authenticated',
      input: serving.UpdateServingEndpointConfig,
      handler: (input, { principal }) => {
        const { name, ...config } = input;
        return service.updateConfig(principal, name, config);
      },
    }),
    defineRoute({
      method: 'GET',
      paths: [`${BASE}/:name/served-models/:served_model_name/build-logs`, `${BASE}/:name/served-models/:served_model_name/logs`],
      summary: "A served entity's load state and reasons",
      tag: 'serving',
      auth: 'authenticated',
      input: z.object({ name: z.string().min(1).max(1000), served_model_name: z.string().min(1).max(1000) }),
      handler: (input, { principal }) => service.buildLogs(principal, input.name, input.served_model_name),
    }),
    // Serving endpoints have their own permission level names, so their permissions API lives here rather than in the
    // generic workspace-object one (the router prefers this static segment over `:object_type`).
    defineRoute({
      method: 'GET',
      paths: [`${PERMISSIONS}/:serving_endpoint_id`],
      summary: 'Permissions of a serving endpoint (CAN_VIEW, CAN_QUERY, CAN_MANAGE)',
      tag: 'serving',
      auth: 'authenticated',
      input: servingPermissions.ServingEndpointPermissionsTarget,
      handler: (input, { principal }) => service.getPermissions(principal, input.serving_endpoint_id),
    }),
    ...(['PUT', 'PATCH'] as const).map((method) =>
      defineRoute({
        method,
        paths: [`${PERMISSIONS}/:serving_endpoint_id`],
        summary: method === 'PUT' ? 'Replace the permissions of a serving endpoint' : 'Add or update permissions of a serving endpoint',
        tag: 'serving',
        auth: 'authenticated',
        input: servingPermissions.SetServingEndpointPermissions,
        handler: (input, { principal }) => service.setPermissions(principal, input.serving_endpoint_id, input.access_control_list, method === 'PUT'),
      }),
    ),
    defineRoute({
      method: 'GET',
      paths: [`${PERMISSIONS}/:serving_endpoint_id/permissionLevels`],
      summary: 'Permission levels of a serving endpoint',
      tag: 'serving',
      auth: 'authenticated',
      input: servingPermissions.ServingEndpointPermissionsTarget,
      handler: (input, { principal }) => service.permissionLevels(principal, input.serving_endpoint_id),
    }),
    defineRoute({
      method: 'POST',
      paths: [INVOCATIONS_PATH],
      summary: 'Score with a serving endpoint (MLflow scoring protocol: JSON or CSV)',
      tag: 'serving',
      auth: 'authenticated',
      input: serving.InvokeServingEndpoint,
      body: 'raw',
      handler: async (input, { principal, request, reply, rawBody }) => {
        const answer = await answerInvocation(service, principal, input.name, request.headers['content-type'], rawBody, String(request.id));
        if (answer.servedEntity !== null) {
          reply.header(SERVED_ENTITY_HEADER, answer.servedEntity);
          reply.header(SERVED_MODEL_NAME_HEADER, answer.servedEntity);
        }
        return reply.code(answer.status).type('application/json').send(answer.body);
      },
    }),
  ] as unknown as RouteSpec[];
}
