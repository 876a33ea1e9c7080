/**
 * The app's side of calls (issue 39, docs/PROTOCOL.md §21): the App API's call requests, and the one
 * call this app takes part in, which it joins again with the same endpoint after a reconnect of the
 * link, so a blip of the chat link does not end it (the windows then restart ICE, §21.4). In an end-to-end
 * encrypted conversation the signals' DTLS fingerprints are vouched for and checked (call-keys.ts, §21.7).
 */
import type { AppEvent, Result } from '../../src-shared/api.js';
import type { CallInfo, CallSignal } from '../../src-shared/protocol/calls.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { ChatClient } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import type { Link } from './link.js';
import { type CallKeys, type CallKeysDevice, CallVerifier } from './call-keys.js';

interface Taking {
  client: ChatClient;
  call: CallInfo;
  endpoint: string;
}

export class VoiceCallsCore {
  /** The call this app is in, on the client it joined through. */
  private taking: Taking | null = null;
  private readonly verifier: CallVerifier;

  constructor(
    private readonly link: Link,
    private readonly emit: (event: AppEvent) => void,
    /** The encryption device, given the listener of the `call` messages it decrypts. */
    device: (heard: (keys: CallKeys) => void) => CallKeysDevice,
    vouchWaitMs?: number,
  ) {
    this.verifier = new CallVerifier(device((keys) => this.verifier.hear(keys)), emit, vouchWaitMs);
    link.clientFollowers.add((client) => this.follow(client));
  }

  start(conv: ConversationKey, video: boolean): Promise<Result<{ call: CallInfo; endpoint: string }>> {
    return this.link.request(async (client) => this.took(client, await client.request('callStart', { conv, video })));
  }

  join(callId: string): Promise<Result<{ call: CallInfo; endpoint: string }>> {
    return this.link.request(async (client) => this.took(client, await client.request('callJoin', { callId })));
  }

  decline(callId: string): Promise<Result<void>> {
    return this.link.request(async (client) => void (await client.request('callDecline', { callId })));
  }

  leave(callId: string): Promise<Result<void>> {
    if (this.taking?.call.id === callId) this.taking = null;
    return this.link.request(async (client) => void (await client.request('callLeave', { callId })));
  }

  signal(callId: string, to: string, signal: CallSignal): Promise<Result<void>> {
    return this.link.request(async (client) => {
      const taking = this.taking;
      // The voucher and the signal go at once: the peer holds the signal until it has read the voucher.
      const vouched = taking?.call.id === callId ? this.verifier.vouchFor(taking.call, taking.endpoint, to, signal) : undefined;
      await Promise.all([vouched, client.request('callSignal', { callId, to, signal })]);
    });
  }

  list(): Promise<Result<CallInfo[]>> {
    return this.link.request(async (client) => (await client.request('calls')).calls);
  }

  private took(client: ChatClient, result: { call: CallInfo; endpoint: string }): { call: CallInfo; endpoint: string } {
    this.taking = { client, call: result.call, endpoint: result.endpoint };
    this.verifier.know(result.call);
    return result;
  }

  private follow(client: ChatClient): void {
    client.on('callSignal', (push) => this.verifier.received(push));
    client.on('call', ({ call }) => {
      this.verifier.know(call);
      const taking = this.taking;
      if (taking?.call.id !== call.id) return;
      if (call.state === 'ended' || !call.participants.some((participant) => participant.endpoint === taking.endpoint)) this.taking = null;
      else taking.call = call;
    });
    client.on('online', () => void this.resume(client));
  }

  /** After a reconnect: back into the call with the same endpoint, or, if it is over, the windows are told it ended. */
  private async resume(client: ChatClient): Promise<void> {
    const taking = this.taking;
    if (taking?.client !== client) return;
    try {
      await client.request('callJoin', { callId: taking.call.id, endpoint: taking.endpoint });
    } catch (error) {
      if (!(error instanceof ClientError) || this.taking !== taking) return;
      this.taking = null;
      this.emit({ type: 'call', call: { ...taking.call, state: 'ended', participants: [] } });
    }
  }
}
