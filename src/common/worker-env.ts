/**
 * Environment a worker process should start with (the image sets the same). glibc only reads it at process
 * start, so whatever spawns a worker passes it: with the default threshold, freed page images and canvases
 * (8–34 MB each) stay in malloc arenas and the worker's RSS grows with every page it reads.
 */
export const WORKER_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '1048576' };
