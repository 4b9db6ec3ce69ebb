import { ERROR_CODES } from '../../../server/src/domain/errors.js';
import { RequestFailed } from '../../../server/src/signalling/catalogRequest.js';
import { t } from '../i18n/i18n.js';

/** A refused or failed request in words: decided on the stable code, never on the server's text. */
export function requestErrorText(error: unknown): string {
  const code = error instanceof RequestFailed && ERROR_CODES.includes(error.code) ? error.code : 'INTERNAL';
  return t(`requestError_${code}`);
}

/** Runs a request for a control; a refusal is said in `errorBox`, in the page's own words, and nothing else happens. */
export async function sayRefusal(errorBox: HTMLElement, request: () => Promise<unknown>): Promise<void> {
  errorBox.hidden = true;
  try {
    await request();
  } catch (error) {
    errorBox.textContent = requestErrorText(error);
    errorBox.hidden = false;
  }
}
