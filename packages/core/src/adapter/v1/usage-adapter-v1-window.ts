import type { TimeWindow } from '../../time/time-window';

/** The half-open UTC window [start, end) a collect() call covers, aligned to its granularity. */
export type UsageAdapterV1Window = TimeWindow;
