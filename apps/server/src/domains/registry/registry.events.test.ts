// Typed events from the registry (version created, alias moved), on every backend, through the real service and store.
import path from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus, type WeirEvents } from '../../platform/events.ts';
import type { Principal } from '../../platform/http.ts';
import { startTestServer, type TestServer, testBackends } from '../../testing/test-server.ts';
import { createIdentityService, type IdentityTables } from '../identity/index.ts';
import { createRegistryService, type RegistryTables } from './index.ts';

describe('event bus', () => {
  it('delivers typed payloads, reports failing subscribers and keeps publishing', () => {
    const failures: string[] = [];
    const bus = createEventBus((name) => failures.push(name));
    const seen: number[] = [];
    bus.on('registry.alias.moved', () => {
      throw new Error('subscriber bug');
    });
    const off = bus.on('registry.alias.moved', (e) => {
      seen.push(e.version ?? -1);
    });
    const payload: WeirEvents['registry.alias.moved'] = { catalog: 'c', schema: 's', model: 'm', alias: 'a', version: 3, previousVersion: null };
    bus.emit('registry.alias.moved', payload);
    off();
    bus.emit('registry.alias.moved', { ...payload, version: 4 });
    expect(seen).toEqual([3]);
    expect(failures).toEqual(['registry.alias.moved', 'registry.alias.moved']);
  });
});

describe.each(testBackends)('registry events on $name', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('emits version-created and alias-moved events with the previous version', async () => {
    const events = createEventBus();
    const created: WeirEvents['registry.model_version.created'][] = [];
    const moved: WeirEvents['registry.alias.moved'][] = [];
    events.on('registry.model_version.created', (e) => {
      created.push(e);
    });
    events.on('registry.alias.moved', (e) => {
      moved.push(e);
    });
    const identity = createIdentityService({ db: s.weir.store.db as Kysely<IdentityTables> });
    const registry = createRegistryService({
      db: s.weir.store.db as Kysely<RegistryTables>,
      dialect: s.weir.store.dialect,
      access: identity,
      namespace: { schemaExists: async (c, sc) => c === 'main' && sc === 'default', nameTaken: async () => false },
      events,
      modelsRoot: path.join(s.dataDir, 'models'),
      defaultCatalog: 'main',
      defaultSchema: 'default',
    });
    const admin: Principal = { id: 0, userName: 'admin', kind: 'user', isAdmin: true };
    await registry.createRegisteredModel(admin, { name: 'evented' });
    const model = await registry.modelForNewVersion(admin, 'evented');
    for (let i = 0; i < 2; i++) {
      const pending = await registry.insertPendingVersion(admin, model, { source: 's3://bucket/m', runId: 'r1', loggedModelId: null, tags: [] });
      await registry.finishVersion(model, pending, { status: 'READY', message: null, externalLocation: 's3://bucket/m', facts: null });
    }
    await registry.setRegisteredModelAlias(admin, 'evented', 'champion', '1');
    await registry.setRegisteredModelAlias(admin, 'evented', 'champion', '2');
    await registry.deleteRegisteredModelAlias(admin, 'evented', 'champion');
    expect(created).toEqual([
      { catalog: 'main', schema: 'default', model: 'evented', version: 1, status: 'READY', runId: 'r1', servable: false },
      { catalog: 'main', schema: 'default', model: 'evented', version: 2, status: 'READY', runId: 'r1', servable: false },
    ]);
    expect(moved.map((e) => [e.alias, e.version, e.previousVersion])).toEqual([
      ['champion', 1, null],
      ['champion', 2, 1],
      ['champion', null, 2],
    ]);
  });
});
