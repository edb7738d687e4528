// The Action's entry point (action.yml runs.main → dist/index.js): nothing but run().
import { run } from './main';

void run();
