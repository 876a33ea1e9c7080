/**
 * Calls (issue 39), through the browser shell and Chromium with fake devices, as the e2e tests run them:
 * - from "Accept" to the first audio the callee's peer connection decodes, on loopback (each round a new call);
 * - the CPU of a 3-person video call: the one Chromium that runs all three people's pages (so each encodes
 *   its camera and decodes two), over a stretch of the call once every side receives video from both others.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { type Locator, type Page, chromium } from '@playwright/test';
import { CHROMIUM_PATH } from '../playwright.config.js';
import globalSetup from '../e2e/global-setup.js';
import { received, recordCallMedia } from '../e2e/call-stats.js';
import { type ShellUser, removeHomes, startShell } from '../e2e/shell.js';
import { PASSWORD, answerInvitation, conversationLink, freePort, newChat } from '../e2e/ui.js';
import { type Result, round, sleep } from './common.js';

export interface CallsOptions {
  /** Calls answered, whose median accept-to-audio time is the figure. */
  accepts: number;
  /** Seconds of the 3-person video call whose CPU is measured. */
  cpuSeconds: number;
}

const ARGS = ['--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection'];

export async function callsBench(options: CallsOptions): Promise<Result> {
  // The renderer's build and the shell's bundle, as in an e2e run; without waiting for it, the shells
  // would start from their sources before BUNDLE_ENV is set.
  const removeBundle = await globalSetup();
  const server = await chromium.launchServer({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS });
  const browser = await chromium.connect(server.wsEndpoint());
  const users: ShellUser[] = [];
  try {
    const port = await freePort();
    for (const name of ['alice', 'bob', 'carol']) users.push(await startShell(browser, name, undefined, undefined, recordCallMedia));
    const [alice, bob, carol] = users.map((user) => user.page) as [Page, Page, Page];
    await enterRoom(alice, 'Host room', 'Lab', port, 'alice');
    await enterRoom(bob, 'Join room', '127.0.0.1', port, 'bob');
    await enterRoom(carol, 'Join room', '127.0.0.1', port, 'carol');

    const result: Result = { workload: 'calls' };
    await startChat(alice, 'New direct message', 'User name', 'bob', 'Start chat');
    await bob.getByRole('region', { name: 'Chat requests' }).getByRole('button', { name: 'Accept alice' }).click();
    await conversationLink(bob, 'alice').click();
    await settle(bob.getByRole('main', { name: 'alice' }));
    const times: number[] = [];
    for (let i = 0; i < options.accepts; i++) {
      await alice.getByRole('button', { name: 'Voice call' }).click();
      const accept = bob.getByRole('dialog', { name: 'alice is calling you' }).getByRole('button', { name: 'Accept', exact: true });
      await accept.waitFor();
      times.push(await bob.evaluate(acceptToFirstAudio));
      await bob.getByRole('button', { name: 'Hang up' }).click();
      await alice.getByRole('button', { name: 'Voice call' }).waitFor();
      await sleep(500);
    }
    times.sort((a, b) => a - b);
    result['accepts'] = times.length;
    result['accept_to_audio_p50_ms'] = round(times[Math.floor(times.length / 2)]!, 0);
    result['accept_to_audio_max_ms'] = round(times.at(-1)!, 0);

    await startChat(alice, 'New group', 'Group name', 'Bench', 'Create group');
    await alice.getByRole('button', { name: 'Group details', exact: true }).click();
    const details = alice.getByRole('complementary', { name: 'Group details', exact: true });
    for (const member of ['bob', 'carol']) {
      await details.getByRole('button', { name: 'Add member' }).click();
      const dialog = alice.getByRole('dialog', { name: 'Add member' });
      await dialog.getByRole('combobox', { name: 'Member name' }).fill(member);
      await dialog.getByRole('button', { name: 'Add member' }).click();
      await dialog.waitFor({ state: 'detached' });
    }
    await answerInvitation(bob, 'Bench');
    await answerInvitation(carol, 'Bench');
    await alice.getByRole('main', { name: 'Bench' }).getByRole('button', { name: 'Video call' }).click();
    for (const page of [bob, carol]) await page.getByRole('dialog', { name: 'alice is calling Bench' }).getByRole('button', { name: 'Accept with video' }).click();
    for (const page of [alice, bob, carol]) {
      const deadline = Date.now() + 60_000;
      while ((await received(page)).filter((seen) => seen.video > 0 && seen.audio > 0).length < 2) {
        if (Date.now() > deadline) throw new Error('the 3-person call did not carry video both ways');
        await sleep(200);
      }
    }
    const tree = processTree(server.process().pid!);
    const before = cpuTicks(tree);
    const framesBefore = await Promise.all([alice, bob, carol].map(framesDecoded));
    await sleep(options.cpuSeconds * 1000);
    const seconds = (cpuTicks(processTree(server.process().pid!)) - before) / 100;
    const framesAfter = await Promise.all([alice, bob, carol].map(framesDecoded));
    result['video_call_people'] = 3;
    result['video_call_seconds'] = options.cpuSeconds;
    // Percent of one core: 100 is one core busy for the whole stretch.
    result['video_call_chromium_cpu_pct'] = round((seconds / options.cpuSeconds) * 100, 0);
    result['video_call_cpu_pct_per_person'] = round((seconds / options.cpuSeconds / 3) * 100, 0);
    result['video_call_fps_received'] = round(framesAfter.reduce((sum, after, i) => sum + after - framesBefore[i]!, 0) / 6 / options.cpuSeconds, 1);
    result['load_1m'] = round(loadavg()[0]!, 1);
    return result;
  } finally {
    await Promise.all(users.map((user) => user.stop()));
    removeHomes();
    await browser.close();
    await server.close();
    removeBundle();
  }
}

/**
 * The e2e helpers' steps (e2e/ui.ts), each waited for as long as a loaded machine takes: outside the test
 * runner their expectations wait only Playwright's default 5 s, which a room's start outlasts here.
 */
function settle(locator: Locator, state: 'visible' | 'detached' = 'visible'): Promise<void> {
  return locator.waitFor({ state, timeout: 120_000 });
}

async function enterRoom(page: Page, tab: 'Host room' | 'Join room', place: string, port: number, name: string): Promise<void> {
  await page.getByRole('tab', { name: tab }).click();
  await page.getByRole('textbox', { name: tab === 'Host room' ? 'Room name' : 'Host', exact: true }).fill(place);
  await page.getByRole('textbox', { name: 'Port' }).fill(String(port));
  await page.getByRole('textbox', { name: 'Your name' }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: tab === 'Host room' ? 'Start hosting' : 'Join', exact: true }).click();
  await settle(page.getByRole('status').filter({ hasText: 'Online' }));
}

async function startChat(page: Page, item: 'New direct message' | 'New group', field: string, value: string, submit: string): Promise<void> {
  const dialog = await newChat(page, item);
  await dialog.getByRole(field === 'User name' ? 'combobox' : 'textbox', { name: field }).fill(value);
  await dialog.getByRole('button', { name: submit }).click();
  await settle(dialog, 'detached');
}

/** In the callee's page: clicks Accept and times until its peer connection has decoded audio. */
async function acceptToFirstAudio(): Promise<number> {
  const connections = (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections;
  const known = connections.length;
  const accept = [...document.querySelectorAll('button')].find((button) => button.textContent?.trim() === 'Accept')!;
  const started = performance.now();
  accept.click();
  for (;;) {
    for (const pc of connections.slice(known)) {
      let samples = 0;
      (await pc.getStats()).forEach((entry: { type: string; kind?: string; totalSamplesReceived?: number }) => {
        if (entry.type === 'inbound-rtp' && entry.kind === 'audio') samples += entry.totalSamplesReceived ?? 0;
      });
      if (samples > 0) return performance.now() - started;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function framesDecoded(page: Page): Promise<number> {
  return (await received(page)).reduce((sum, seen) => sum + seen.video, 0);
}

/** The process and all its descendants (Chromium's renderers, GPU and utility processes). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** utime + stime of these processes, in clock ticks (100 a second). */
function cpuTicks(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone meanwhile.
    }
  }
  return ticks;
}
