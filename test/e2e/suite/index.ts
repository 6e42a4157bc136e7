/**
 * Entry point VS Code calls (`extensionTestsPath`) inside the real extension host: runs the mocha suite and,
 * where CLEAN_E2E_RESULTS is set, writes each test's outcome there for the harness to count.
 */
import { writeFileSync } from 'node:fs';
import Mocha from 'mocha';

interface HostTestOutcome { suite: string; name: string; passed: boolean; error?: string; durationMs: number }

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  // Bundled tests register through mocha's globals, so expose them before requiring the test modules.
  mocha.suite.emit('pre-require', globalThis, 'clean-streams-e2e', mocha);
  require('./activation.test');
  require('./demo.test');
  require('./resolveTopic.test');
  require('./diagnostics.test');
  require('./alerts.test');
  require('./codeTopics.test');
  require('./sinks.test');
  require('./wizard.test'); // restarts the agent too; its pipelines are stopped afterwards
  require('./baseline.test'); // last: it restarts the agent

  const outcomes: HostTestOutcome[] = [];
  console.log('clean-streams-e2e: mocha starts'); // the harness shows host output from here on
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const resultsFile = process.env.CLEAN_E2E_RESULTS;
      if (resultsFile) writeFileSync(resultsFile, JSON.stringify(outcomes, null, 2));
      if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed.`));
      else resolve();
    });
    runner.on('pass', (test) => {
      outcomes.push({ suite: 'host', name: test.fullTitle(), passed: true, durationMs: test.duration ?? 0 });
    });
    runner.on('fail', (test, error: Error) => {
      outcomes.push({ suite: 'host', name: test.fullTitle(), passed: false, error: error.stack ?? String(error), durationMs: test.duration ?? 0 });
    });
  });
}
