/**
 * The V8 flags the `pinot-export` executable runs Node with (its `#!` line in src/cli/main.ts; a test keeps the
 * two the same). V8 reads them only at start-up and Node refuses them in NODE_OPTIONS, so `node
 * dist/src/cli/main.js …` and programs embedding the stream components pass them to `node` themselves.
 *
 * `--initial-old-space-size=64`: by default V8 sizes the old generation's limits by this program's small JS
 * heap (~11 MB; its data lives in ArrayBuffers) and runs a major GC every ~150 ms of a conversion: twice as
 * many as with the flag, ~2 s more CPU per 10.6M-row segment (README, Benchmarks). Cost: a daemon may hold
 * up to ~50 MB more JS garbage between GCs.
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
