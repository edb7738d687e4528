// The Action's entry point (action.yml runs.main → dist/index.js): nothing but run().
import { run } from './main';

// Once run() is done the step is over: exit with its verdict (core.setFailed set process.exitCode)
// instead of waiting seconds for the GitHub client's idle keep-alive sockets to close.
void run().finally(() => process.exit());
