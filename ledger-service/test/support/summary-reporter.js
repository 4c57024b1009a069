// Prints one plain closing line, "N passed, N failed", that any CI log reader understands, and appends the
// counts to VEIL_TEST_SUMMARY_FILE so `npm test` can total several Jest runs (PGlite, then PostgreSQL).
const fs = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed`;
    process.stdout.write(`\n${process.env.VEIL_TEST_LABEL ?? 'jest'}: ${line}\n`);
    if (process.env.VEIL_TEST_SUMMARY_FILE) {
      fs.appendFileSync(
        process.env.VEIL_TEST_SUMMARY_FILE,
        JSON.stringify({ label: process.env.VEIL_TEST_LABEL, passed: results.numPassedTests, failed, skipped: results.numPendingTests }) + '\n',
      );
    }
  }
}
module.exports = SummaryReporter;
