/**
 * How much CPU a process had, and how long its threads waited for one, from Linux's
 * /proc/<pid>/task/<tid>/schedstat (time on a CPU, time runnable on a run queue, in ns), summed
 * over its threads that still run. Undefined where there is no such file or the process has gone.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface SchedTimes {
  /** s on a CPU */
  cpu: number;
  /** s runnable but waiting for a CPU (others ran: a busy machine, a lower priority) */
  waited: number;
}

export function processSchedTimes(pid: number | undefined): SchedTimes | undefined {
  if (!pid) return undefined;
  try {
    let cpu = 0, waited = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      if (!Number.isFinite(run) || !Number.isFinite(wait)) return undefined;
      cpu += run! / 1e9;
      waited += wait! / 1e9;
    }
    return { cpu, waited };
  } catch {
    return undefined;
  }
}
