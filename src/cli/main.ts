/** The `syncline` executable: runs the CLI on the process's arguments and sets its exit code. */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
