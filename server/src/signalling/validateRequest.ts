import { RelaisError } from '../domain/errors.js';
import { requestSchemas, type RequestName, type ValidPayload } from './catalog.js';

export function isRequestName(name: string): name is RequestName {
  return Object.hasOwn(requestSchemas, name);
}

/** The boundary check: what comes off the wire is unknown until its schema accepts it. */
export function validateRequest<N extends RequestName>(name: N, payload: unknown): ValidPayload<N> {
  const result = requestSchemas[name].safeParse(payload ?? {});
  if (!result.success) {
    const details = result.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || 'payload'}: ${issue.message}`)
      .join('; ');
    throw new RelaisError('INVALID_REQUEST', `Invalid ${name} request (${details}).`);
  }
  return result.data as ValidPayload<N>;
}
