// os-hypervisors' `uptime` string in the shape of the uptime(1) line Nova's libvirt driver returns.
import type { ComputeService } from '../../services/compute/index.js';

type Usage = NonNullable<Awaited<ReturnType<ComputeService['hostUsage']>>>;

const two = (n: number) => String(n).padStart(2, '0');

/** " HH:MM:SS up D days, H:MM,  0 users,  load average: a, b, c"; a fixed line when the host's figures are unknown. */
export function uptimeLine(u: Usage | null, now = new Date()): string {
  if (!u) return ' 00:00:00 up 1 day, load average: 0.00, 0.00, 0.00';
  const clock = `${two(now.getUTCHours())}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())}`;
  const days = Math.floor(u.uptimeSec / 86_400);
  const h = Math.floor((u.uptimeSec % 86_400) / 3600);
  const m = Math.floor((u.uptimeSec % 3600) / 60);
  const up = `${days > 0 ? `${days} day${days === 1 ? '' : 's'}, ` : ''}${h}:${two(m)}`;
  const load = u.loadAverage.map((x) => x.toFixed(2)).join(', ');
  return ` ${clock} up ${up},  0 users,  load average: ${load}`;
}
