/**
 * A session that takes part in a call without vouching for its keys (PROTOCOL §21.7): another client of
 * PROTOCOL.md with no encryption device, or what a host that makes up signals looks like to the app.
 */
import { ChatClient } from '../src-main/client/client.js';
import { offerSdp } from '../src-main/testing/harness.js';
import { PASSWORD } from './ui.js';

const SDP = offerSdp(Array(32).fill('66').join(':'));

/** `name`'s second session joins the call ringing or running in the room on `port` and offers to `to`'s endpoint; resolves with the session. */
export async function unvouchedOffer(port: number, name: string, to: string): Promise<ChatClient> {
  const client = new ChatClient({ host: '127.0.0.1', port, name, password: PASSWORD, reconnect: false });
  await client.connect();
  const [call] = (await client.request('calls')).calls;
  if (call === undefined) throw new Error('no call to join');
  await client.request('callJoin', { callId: call.id });
  const endpoint = call.participants.find((participant) => participant.user === to)?.endpoint;
  if (endpoint === undefined) throw new Error(`${to} is not in the call`);
  await client.request('callSignal', { callId: call.id, to: endpoint, signal: { kind: 'offer', sdp: SDP } });
  return client;
}
