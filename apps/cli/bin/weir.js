#!/usr/bin/env -S node --max-semi-space-size=8
// Runs the TypeScript sources directly through tsx, so `npx weir` works right after `npm install`.
// An 8 MB semi-space (V8's default is 16 MB): the young generation of a busy scoring endpoint is collected about
// half as often as with 2 MB, for about 10% more throughput, while a 2 GiB volume upload keeps `weir server` at
// about 180 MB resident (16 MB: about 195 MB; 2 MB: about 165 MB). It can only be set at launch, hence the shebang.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
await main(process.argv);
