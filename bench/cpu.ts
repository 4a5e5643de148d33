/**
 * Where the machine's CPU went during a pass, from /proc: the worker processes (page work), the rest of
 * Folio (the API, Temporal, PostgreSQL), the bench itself, everything else on the machine, and idle. This is
 * the honest denominator for the orchestration overhead: the cores a pass had, against the CPU time the
 * workers spent — whatever the activity slots, the page window or the OCR pool's queue look like.
 */
import fs from 'node:fs';
import os from 'node:os';

/** Linux reports CPU time in clock ticks of 1/100 s (`getconf CLK_TCK`) on every platform Folio runs on. */
const TICK_SECONDS = 0.01;

export type CpuGroup = 'worker' | 'api' | 'temporal' | 'postgres' | 'bench' | 'other';

/** Cumulative CPU seconds by group and the machine's idle seconds, at one moment. */
export interface CpuSnapshot {
  atMs: number;
  groups: Record<CpuGroup, number>;
  /** Per process, so a process that started or ended between two snapshots is not counted as a jump. */
  byPid: Map<number, { group: CpuGroup; seconds: number }>;
  machineBusySeconds: number;
  machineIdleSeconds: number;
}

/** The processes a pass belongs to: its workers and API; Temporal and PostgreSQL are found by name. */
export interface CpuRoles {
  workers: number[];
  apis: number[];
}

/** utime + stime of one process (all its threads, live and ended), in seconds; undefined once it is gone. */
export function processCpuSeconds(pid: number | string): number | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_SECONDS;
}

function groupOf(pid: number, roles: CpuRoles): CpuGroup {
  if (roles.workers.includes(pid)) return 'worker';
  if (roles.apis.includes(pid)) return 'api';
  if (pid === process.pid) return 'bench';
  let cmdline = '';
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return 'other';
  }
  if (/\btemporal\b.*\bstart-dev\b/.test(cmdline)) return 'temporal';
  if (/^postgres[: ]/.test(cmdline) || cmdline.includes('/bin/postgres ')) return 'postgres';
  return 'other';
}

export function cpuSnapshot(roles: CpuRoles): CpuSnapshot {
  const byPid = new Map<number, { group: CpuGroup; seconds: number }>();
  const groups: Record<CpuGroup, number> = { worker: 0, api: 0, temporal: 0, postgres: 0, bench: 0, other: 0 };
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const seconds = processCpuSeconds(pid);
    if (seconds === undefined) continue;
    const group = groupOf(pid, roles);
    byPid.set(pid, { group, seconds });
    groups[group] += seconds;
  }
  // /proc/stat's first line: the machine's time in each state, in ticks, over all CPUs.
  const [, ...ticks] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const at = (i: number) => Number(ticks[i] ?? 0);
  // user nice system idle iowait irq softirq steal
  const busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
  return {
    atMs: Date.now(),
    groups,
    byPid,
    machineBusySeconds: busy * TICK_SECONDS,
    machineIdleSeconds: (at(3) + at(4)) * TICK_SECONDS,
  };
}

/** CPU seconds between two snapshots, by group; processes present in only one of them are left out. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot) {
  const seconds: Record<CpuGroup, number> = { worker: 0, api: 0, temporal: 0, postgres: 0, bench: 0, other: 0 };
  for (const [pid, end] of after.byPid) {
    const start = before.byPid.get(pid);
    if (start) seconds[end.group] += end.seconds - start.seconds;
  }
  const wallSeconds = (after.atMs - before.atMs) / 1000;
  const busy = after.machineBusySeconds - before.machineBusySeconds;
  const idle = after.machineIdleSeconds - before.machineIdleSeconds;
  // Busy time of processes that started or ended in between, and of the kernel, is what /proc/stat saw
  // beyond the processes counted.
  const counted = Object.values(seconds).reduce((a, b) => a + b, 0);
  return {
    wallSeconds,
    cores: os.cpus().length,
    seconds: { ...seconds, unattributed: Math.max(0, busy - counted) },
    idleSeconds: idle,
  };
}

export type CpuBetween = ReturnType<typeof cpuBetween>;

/**
 * Samples the workers' CPU every `intervalMs` while a pass runs: how many cores the page work used at each
 * moment, so an idle OCR thread at the tail shows as the time it lasted.
 */
export function sampleWorkerCpu(pids: number[], intervalMs = 100) {
  const read = () => pids.reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0);
  const samples: [number, number][] = [[Date.now(), read()]];
  const timer = setInterval(() => samples.push([Date.now(), read()]), intervalMs);
  return {
    /** Stops sampling: each interval as [start ms, end ms, cores used on average]. */
    stop(): [number, number, number][] {
      clearInterval(timer);
      samples.push([Date.now(), read()]);
      const out: [number, number, number][] = [];
      for (let i = 1; i < samples.length; i++) {
        const [a, ca] = samples[i - 1]!;
        const [b, cb] = samples[i]!;
        if (b > a) out.push([a, b, (cb - ca) / ((b - a) / 1000)]);
      }
      return out;
    },
  };
}
