/**
 * Node options the API process starts with (the image's and compose's API command pass the same): V8's young
 * generation capped at 4 MB semi-spaces. An upload streams through the API in 64 KB socket reads whose
 * buffers die young but live outside the JavaScript heap until a collection frees them; with V8's default
 * young generation (it grew to tens of MB) scavenges came so seldom that a 500 MB upload raised the API's RSS
 * by ~63 MB (folder) and ~76 MB (bucket), whatever the upload's size (100 MB and 1,500 MB alike: garbage
 * waiting, not retention). Capped: +29 and +38 MB (process.memoryUsage sampled in the API every 20 ms, one
 * upload each, 2026-12-03), and the idle API is ~110 MB smaller. The bench's storage suite, under a load of
 * 13–15 on 2 cores: folder +53 MB median (35–69), bucket +40 (39–46), see docs/benchmarks.md. V8 reads the
 * option only at start, so whatever spawns an API passes it.
 */
export const API_NODE_OPTIONS = '--max-semi-space-size=4';

/** The environment an API process is spawned with: API_NODE_OPTIONS after any NODE_OPTIONS already set. */
export function apiProcessEnv(nodeOptions = process.env.NODE_OPTIONS): Record<string, string> {
  return { NODE_OPTIONS: [nodeOptions, API_NODE_OPTIONS].filter(Boolean).join(' ') };
}
