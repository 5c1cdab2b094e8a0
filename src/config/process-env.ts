// The one read of the process environment, taken once when the process starts. Settings come from it only through
// loadConfig (src/config.ts, which maps GUREUM_* names onto the typed config); what spawned tools inherit and where
// binaries are looked up (PATH, TMPDIR, LIBGUESTFS_*) come from it through src/util/host-env.ts. No other module
// reads process.env (test/unit/architecture/process-env.test.ts checks that). Imports nothing, so every layer may
// import it without pulling the config loader in.

/** The environment this process started with, frozen: later writes to process.env do not change it. */
export const processEnv: Readonly<NodeJS.ProcessEnv> = Object.freeze({ ...process.env });
