// Type declarations of bullseye-mock/operations.

/** "METHOD /path/{param}" -> the client method's name ("partner.x": a method of client.partner). */
export const OPERATIONS: ReadonlyArray<readonly [method: string, path: string, name: string]>;
/** Rows the served document may still lack (the traffic endpoints, until the mock documents them). */
/** Public methods that compose the table's operations and so have no row. */
export const CONVENIENCE: Readonly<{ client: readonly string[]; partner: readonly string[] }>;
/** "METHOD /path" of a row. */
export function operationKey(method: string, path: string): string;
