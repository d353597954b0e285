/** Why a tool run was stopped or could not start. */
import type { ToolRun } from './run-tool.js';

export type ToolLimit = 'time' | 'output' | 'memory';

const WHAT: Record<ToolLimit, string> = {
  time: 'ran past its time limit',
  output: 'wrote more output than its limit',
  memory: 'ran out of its memory limit',
};

export class ToolLimitError extends Error {
  readonly code = 'TOOL.LIMIT_EXCEEDED';
  constructor(
    readonly command: string,
    readonly limit: ToolLimit,
    /** What the run gave before it was stopped (output up to the cap). */
    readonly run: ToolRun,
    detail: string,
  ) {
    super(`${command} ${WHAT[limit]} (${detail}); exit code ${run.exitCode ?? 'none'}, signal ${run.signal ?? 'none'}, after ${run.durationMs} ms`);
    this.name = 'ToolLimitError';
  }
}

export class ToolStartError extends Error {
  readonly code = 'TOOL.START_FAILED';
  constructor(
    readonly command: string,
    cause: Error,
  ) {
    super(`${command} could not start: ${cause.message}`, { cause });
    this.name = 'ToolStartError';
  }
}
