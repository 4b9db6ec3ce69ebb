import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Each benchmark workload, small, through its real entry point (the same script `npm run
 * bench:*` runs: relais in its own process, the load generator's child processes, the bare
 * baseline where cheap enough), so that the benchmark code cannot rot. Asserts only that the
 * run completes and media flows: the figures of so small a run mean nothing.
 */
const root = path.resolve(import.meta.dirname, '../..');
const SMALL = ['--listeners', '20', '--ramp-seconds', '2', '--duration-seconds', '3', '--no-row'];

interface Summary {
  failedJoins: number;
  relaisOverBaselineMedian: number | null;
  video: { packetsReceived: number; fps: { p50: number }; probationPacketsPerListener: number } | null;
  runs: { fidelity: string; deliveredPackets: number; load: { joined: number; packetsReceived: number } }[];
}

interface MeetingSummary {
  sizes: { runs: { joined: number; deliveredPackets: number; camerasWithoutFrame: number }[] }[];
}

interface ResilienceSummary {
  scenarios: { scenario: string; affected: number; audioBackMs: { count: number } | null; sessionsLost: number }[];
}

/** Runs a workload script to its end (bounded) and returns its summary file. */
async function runWorkload(script: string, args: string[], out: string): Promise<Summary> {
  // Each workload in its own process, as `npm run bench:*` starts it.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, script), ...args, '--out', out], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 80_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, `${script} ${args.join(' ')} failed:\n${stderr}`);
  return JSON.parse(readFileSync(out, 'utf8')) as Summary;
}

describe('benchmark workloads, small (smoke)', function () {
  this.timeout(120_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'relais-bench-smoke-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('audio briefing: relais then bare mediasoup, faithful listeners hear the speaker in both', async () => {
    const summary = await runWorkload(
      'bench/briefing/run.ts',
      [...SMALL, '--repetitions', '1', '--no-lean'],
      path.join(dir, 'briefing.json'),
    );
    assert.equal(summary.runs.length, 2, 'one relais run and one baseline run');
    for (const run of summary.runs) {
      assert.equal(run.fidelity, 'chrome');
      assert.ok(run.load.joined > 0 && run.load.packetsReceived > 0, JSON.stringify(run.load));
      assert.ok(run.deliveredPackets > 0, 'packets counted inside the CPU window');
    }
    assert.ok(summary.relaisOverBaselineMedian !== null && summary.relaisOverBaselineMedian > 0);
  });

  it('video briefing: listeners receive the commander’s audio and lowest video layer', async () => {
    const summary = await runWorkload(
      'bench/briefing/run.ts',
      [...SMALL, '--video', '--repetitions', '1', '--no-lean', '--no-baseline', '--name', 'video-briefing'],
      path.join(dir, 'video.json'),
    );
    assert.ok((summary.runs[0]?.load.packetsReceived ?? 0) > 0, 'audio flows');
    assert.ok((summary.video?.packetsReceived ?? 0) > 0, 'video flows');
    assert.ok((summary.video?.fps.p50 ?? 0) > 0, 'frames complete');
    // mediasoup's bandwidth probes reach the listeners, on the section mediasoup-client adds for them.
    assert.ok((summary.video?.probationPacketsPerListener ?? 0) > 0, 'probes received and reported');
  });

  it('crisis meeting: every member receives the others’ audio and cameras', async () => {
    const out = path.join(dir, 'meeting.json');
    await runWorkload(
      'bench/meeting/run.ts',
      ['--members', '4', '--duration-seconds', '3', '--repetitions', '1', '--no-baseline', '--no-row'],
      out,
    );
    const summary = JSON.parse(readFileSync(out, 'utf8')) as unknown as MeetingSummary;
    const run = summary.sizes[0]?.runs[0];
    assert.equal(run?.joined, 4);
    assert.ok((run?.deliveredPackets ?? 0) > 0 && run?.camerasWithoutFrame === 0, JSON.stringify(run));
  });

  it('resilience: the listeners of a node killed come back through the balancer, no session lost', async () => {
    const out = path.join(dir, 'resilience.json');
    await runWorkload(
      'bench/resilience/run.ts',
      ['--listeners', '6', '--scenarios', 'node-kill', '--recovery-seconds', '8', '--processes', '1'],
      out,
    );
    const summary = JSON.parse(readFileSync(out, 'utf8')) as unknown as ResilienceSummary;
    const run = summary.scenarios[0];
    assert.equal(run?.scenario, 'node-kill');
    assert.ok(run.affected > 0 && run.audioBackMs?.count === run.affected, JSON.stringify(run));
    assert.equal(run.sessionsLost, 0, JSON.stringify(run));
  });

  it('join storm: every listener of a fast ramp gets audio', async () => {
    const summary = await runWorkload(
      'bench/briefing/run.ts',
      [...SMALL, '--ramp-seconds', '1', '--repetitions', '1', '--no-lean', '--no-baseline', '--name', 'join-storm'],
      path.join(dir, 'storm.json'),
    );
    assert.ok((summary.runs[0]?.load.joined ?? 0) > 0 && (summary.runs[0]?.load.packetsReceived ?? 0) > 0);
  });
});
