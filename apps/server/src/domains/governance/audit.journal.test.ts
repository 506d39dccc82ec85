// The SQLite audit journal on its own (PostgreSQL has none: its events are inserted directly, see audit.test.ts): what a
// killed process leaves in it is staged exactly once, a line cut short by the kill is skipped, and an append is in the
// journal file (durable against a kill) before it resolves.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type MetadataDb, migrate, openMetadataDb } from '../../platform/db.ts';
import type { AuditEvent } from './audit.events.ts';
import { type AuditTables, auditMigrations, createAuditWriter } from './audit.log.ts';

function event(requestId: string): AuditEvent {
  return {
    event_id: `ev-${requestId}`,
    event_time: 1_790_000_000_000,
    request_id: requestId,
    source_ip_address: '127.0.0.1',
    user_agent: 'test',
    user_name: 'admin',
    service_name: 'weir',
    action_name: 'journalCheck',
    request_params: '{"a":"b"}',
    status_code: 200,
    error_message: null,
  };
}

/** The journal line of an event: its columns in the staging table's order, as JSON. */
function line(e: AuditEvent): string {
  const row = [
    e.event_id,
    e.event_time,
    e.request_id,
    e.source_ip_address,
    e.user_agent,
    e.user_name,
    e.service_name,
    e.action_name,
    e.request_params,
    e.status_code,
    e.error_message,
  ];
  return `${JSON.stringify(row)}\n`;
}

describe('audit journal on sqlite', () => {
  const opened: MetadataDb[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  async function store(dir: string): Promise<MetadataDb> {
    const s = openMetadataDb({ dataDir: dir });
    opened.push(s);
    await migrate(s, auditMigrations);
    return s;
  }

  async function staged(s: MetadataDb): Promise<string[]> {
    const rows = await (s.db as Kysely<AuditTables>).selectFrom('audit_events').select('request_id').orderBy('seq').execute();
    return rows.map((r) => r.request_id);
  }

  it('stages what a killed process left, once, skipping a line the kill cut short', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-audit-journal-'));
    dirs.push(dir);
    const s = await store(dir);
    const tag = randomBytes(4).toString('hex');
    // Already staged before the kill (its file was not deleted yet): must not be staged twice.
    await (s.db as Kysely<AuditTables>)
      .insertInto('audit_events')
      .values(event(`${tag}-staged`))
      .execute();
    const base = path.join(dir, 'weir.db-audit-journal');
    fs.writeFileSync(`${base}.3`, line(event(`${tag}-staged`)) + line(event(`${tag}-a`)));
    const cut = line(event(`${tag}-cut`));
    fs.writeFileSync(`${base}.4`, line(event(`${tag}-b`)) + cut.slice(0, cut.length - 20));

    const writer = createAuditWriter(s);
    await writer.append(event(`${tag}-c`));
    await writer.drain();
    expect(await staged(s)).toEqual([`${tag}-staged`, `${tag}-a`, `${tag}-b`, `${tag}-c`]);
    // Moved files are gone (the next append opens the next generation).
    expect(fs.readdirSync(dir).filter((f) => f.includes('audit-journal'))).toEqual([]);
    await writer.append(event(`${tag}-d`));
    expect(fs.readdirSync(dir).filter((f) => f.includes('audit-journal'))).toEqual(['weir.db-audit-journal.6']);
    await writer.close();
    expect(fs.readdirSync(dir).filter((f) => f.includes('audit-journal'))).toEqual([]);
    expect(await staged(s)).toEqual([`${tag}-staged`, `${tag}-a`, `${tag}-b`, `${tag}-c`, `${tag}-d`]);
  });

  it('has the event in the journal file when append resolves, before it is staged', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-audit-journal-'));
    dirs.push(dir);
    const s = await store(dir);
    const writer = createAuditWriter(s);
    const id = `durable-${randomBytes(4).toString('hex')}`;
    await writer.append(event(id));
    const files = fs.readdirSync(dir).filter((f) => f.startsWith('weir.db-audit-journal.'));
    const text = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
    expect(text).toBe(line(event(id)));
    expect(await staged(s)).toEqual([]);
    await writer.close();
    expect(await staged(s)).toEqual([id]);
  });
});
