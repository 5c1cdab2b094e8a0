// One structured line per host task, next to the HTTP layer's one line per request. Both carry the API call's
// request id (`req_id`), so `grep req-<uuid>` over the log follows an action from the HTTP request to the end of the
// host task that carried it out.
import type { HostTask } from '../../store/task-queue.js';

/** How a task ended: done, failed (the instance holds the fault), or skipped (instance gone or being deleted). */
export type TaskResult = 'success' | 'error' | 'skipped';

export interface TaskOutcome {
  result: TaskResult;
  error?: string;
}

/** The fields of one task's line. */
export interface TaskLogLine {
  /** The x-openstack-request-id of the call that queued the task; null for tasks no API call made. */
  req_id: string | null;
  task: string;
  task_id: string;
  host: string;
  instance_id: string | null;
  /** ISO times the task started and ended on the host. */
  start: string;
  end: string;
  ms: number;
  result: TaskResult;
  error?: string;
}

/** Where task lines go (the composition root hands the server's logger). */
export type TaskLogger = (line: TaskLogLine) => void;

/** The line of a finished task. */
export function taskLogLine(
  task: HostTask,
  requestId: string | null,
  startedAt: Date,
  endedAt: Date,
  outcome: TaskOutcome,
): TaskLogLine {
  return {
    req_id: requestId,
    task: task.kind,
    task_id: task.id,
    host: task.host,
    instance_id: task.instanceId,
    start: startedAt.toISOString(),
    end: endedAt.toISOString(),
    ms: endedAt.getTime() - startedAt.getTime(),
    result: outcome.result,
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
  };
}
