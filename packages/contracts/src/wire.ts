import { z } from 'zod';

/**
 * An int64 on the wire: MLflow clients send JSON numbers, GET query strings and protobuf JSON send
 * digit strings, so both are accepted and the value comes out as a JS number.
 */
export const int64 = () =>
  z.union([
    z.number().int(),
    z
      .string()
      .regex(/^-?\d{1,19}$/)
      .transform(Number),
  ]);

/** A double on the wire: a JSON number, a numeric string, or one of "NaN", "Infinity", "-Infinity". */
export const double = () =>
  z.union([
    z.number(),
    z
      .string()
      .regex(/^(NaN|-?Infinity|[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)$/)
      .transform(Number),
  ]);

/** A required, non-empty string (MLflow treats "" as a missing required field). */
export const requiredString = () => z.string().min(1);

/** `{key, value}` pair used by tags and params. */
export const KeyValue = z.object({ key: z.string(), value: z.string().optional() });
/** A tag or param as sent by clients. */
export type KeyValue = z.infer<typeof KeyValue>;

/** Accepts a protobuf enum given by name or by number, returning the name. */
export const protoEnum = <const T extends readonly [string, ...string[]]>(names: T) =>
  z.union([
    z.enum(names),
    z
      .number()
      .int()
      .refine((n) => n >= 1 && n <= names.length)
      .transform((n) => names[n - 1] as T[number]),
    z
      .string()
      .regex(/^\d+$/)
      .transform(Number)
      .refine((n) => n >= 1 && n <= names.length)
      .transform((n) => names[n - 1] as T[number]),
  ]);
