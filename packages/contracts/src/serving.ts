import { z } from 'zod';
import { KeyValue } from './wire.ts';

/** A served entity as a client sends it: a registered model by version or (Weir's extension) by alias. */
export const ServedEntityInput = z.object({
  name: z.string().min(1).max(63).optional(),
  entity_name: z.string().min(1).max(1000),
  entity_version: z.union([z.string().min(1).max(20), z.number().int().transform(String)]).optional(),
  entity_alias: z.string().min(1).max(255).optional(),
  workload_size: z.string().max(100).optional(),
  workload_type: z.string().max(100).optional(),
  scale_to_zero_enabled: z.boolean().optional(),
  environment_vars: z.record(z.string(), z.string()).optional(),
});
/** A served entity as a client sends it. */
export type ServedEntityInput = z.infer<typeof ServedEntityInput>;

/** One traffic route: a served entity and its share of requests. */
export const TrafficRoute = z.object({
  served_entity_name: z.string().min(1).max(63).optional(),
  served_model_name: z.string().min(1).max(63).optional(),
  traffic_percentage: z.number().int().min(0).max(100),
});

/** Where requests and responses are captured (legacy inference tables). */
export const AutoCaptureConfig = z.object({
  catalog_name: z.string().min(1).max(255).optional(),
  schema_name: z.string().min(1).max(255).optional(),
  table_name_prefix: z.string().min(1).max(255).optional(),
  enabled: z.boolean().optional(),
});

/** An endpoint's config: what it serves and how traffic is split (the body of PUT .../config). */
export const EndpointCoreConfig = z.object({
  served_entities: z.array(ServedEntityInput).max(15).optional(),
  served_models: z
    .array(ServedEntityInput.extend({ model_name: z.string().optional(), model_version: z.string().optional() }))
    .max(15)
    .optional(),
  traffic_config: z.object({ routes: z.array(TrafficRoute).max(15) }).optional(),
  auto_capture_config: AutoCaptureConfig.optional(),
});
/** An endpoint's config as sent by a client. */
export type EndpointCoreConfig = z.infer<typeof EndpointCoreConfig>;

/** POST /api/2.0/serving-endpoints */
export const CreateServingEndpoint = z.object({
  name: z.string().min(1).max(63),
  config: EndpointCoreConfig.optional(),
  tags: z.array(KeyValue).max(20).optional(),
  description: z.string().max(1000).optional(),
  route_optimized: z.boolean().optional(),
});

/** GET|DELETE /api/2.0/serving-endpoints/{name} */
export const ServingEndpointName = z.object({ name: z.string().min(1).max(1000) });

/** PUT /api/2.0/serving-endpoints/{name}/config */
export const UpdateServingEndpointConfig = EndpointCoreConfig.extend({ name: z.string().min(1).max(1000) });

/** POST /serving-endpoints/{name}/invocations: the path part (the body is read as JSON or CSV by the route). */
export const InvokeServingEndpoint = z.object({ name: z.string().min(1).max(1000) });
