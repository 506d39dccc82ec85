#!/usr/bin/env -S node --max-semi-space-size=2
// Runs the TypeScript sources directly through tsx, so `npx weir` works right after `npm install`.
// A 2 MB semi-space keeps V8's young generation from growing to 48 MB of mostly garbage: `weir server` stays
// about 40 MB smaller at no measurable cost per request (it can only be set at launch, hence the shebang).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
await main(process.argv);
