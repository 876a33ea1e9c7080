import type { AppError } from '../../src-shared/api.js';

/**
 * An error a form finds before anything is sent, already worded in the UI language. Its code
 * has no sentence of its own (errorText), so the message is what people read.
 */
export function formError(message: string): AppError {
  return { code: 'FORM_INVALID', message };
}
