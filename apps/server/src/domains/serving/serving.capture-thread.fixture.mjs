// A capture thread that dies at once, for the fallback test in serving.capture.test.ts.
process.exit(3);
