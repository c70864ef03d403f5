/** The pieces every part of the OpenAPI document (node/src/api/openapi.ts and each feature's openapi.ts) is written with. */

/** A reference to the component schema `name`. */
export const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });

/** An error response: `{error: {code, message}}` (the `Error` schema). */
export const error = (description: string): Record<string, unknown> => ({ description, content: { "application/json": { schema: ref("Error") } } });

/** A JSON response with `schema`. */
export const json = (description: string, schema: Record<string, unknown>): Record<string, unknown> => ({ description, content: { "application/json": { schema } } });

/** An amount: integer base units as a decimal string (money is never a float). */
export const units = { type: "string", pattern: "^(0|[1-9][0-9]*)$", description: "Base units, decimal" };
