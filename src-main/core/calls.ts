/**
 * The App API's calls as one object of functions, typed from the table (appCalls): what the core
 * implements, what ResumingCore wraps, and the gate that turns a call by name from a window into one.
 */
import { type AppApi, type AppCallName, AppErrorCode, type CallArgs, type Result } from '../../src-shared/api.js';
import { parseCall } from '../../src-shared/api-schema.js';
import { fail, messageOf } from './errors.js';

/** What a call answers: the Result of the value its table entry names. */
export type CallResult<K extends AppCallName> = Result<Extract<Awaited<ReturnType<AppApi[K]>>, { ok: true }>['value']>;

/** One function per call of the table, taking the arguments its schema yields (already checked). */
export type CallHandlers = { [K in AppCallName]: (...args: CallArgs<K>) => Promise<CallResult<K>> };

/** Runs one call with arguments already checked; a handler that throws answers INTERNAL. */
export async function runCall<K extends AppCallName>(handlers: CallHandlers, call: K, args: CallArgs<K>): Promise<CallResult<K>> {
  try {
    return await handlers[call](...args);
  } catch (error) {
    return fail(AppErrorCode.INTERNAL, `${call} failed: ${messageOf(error)}`);
  }
}

/**
 * The one entry for calls from windows: validates the call and its arguments, runs it, and
 * answers with a Result whatever happens.
 */
export async function dispatchCall(handlers: CallHandlers, call: unknown, args: unknown): Promise<Result<unknown>> {
  const parsed = parseCall(call, args);
  if (!parsed.ok) return parsed;
  return runCall(handlers, parsed.call, parsed.args);
}
