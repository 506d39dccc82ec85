// The SQLite audit journal on its own (PostgreSQL has none: its events are inserted directly, see audit.test.ts): an
// append is in the journal file (durable against a kill) before it resolves, and sealing hands compaction what a killed
// process left first, then the file that took appends. How compaction writes the files to Delta, and what it does with
// a file a kill left half-compacted, is tested in audit.test.ts.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type MetadataDb, migrate } from '../../platform/db.ts';
import { tempMetadataStores } from '../../testing/temp-stores.ts';
import type { AuditEvent } from './audit.events.ts';
import { auditMigrations, createAuditWriter } from './audit.log.ts';

function event(requestId: string): AuditEvent {
  return {
    event_id: `ev-${requestId}`,
    event_time: 1_790_000_000_000,
    request_id: requestId,
    source_ip_address: '127.0.0.1',
    user_agent: 'test "quoted"',
    user_name: 'admin',
    service_name: 'weir',
    action_name: 'journalCheck',
    request_params: '{"a":"b"}',
    status_code: 200,
    error_message: null,
  };
}

/** The journal line of an event: its columns as one JSON object, `request_params` as the object it encodes. */
function line(e: AuditEvent): string {
  return `${JSON.stringify({ ...e, request_params: JSON.parse(e.request_params) })}\n`;
}

describe('audit journal on sqlite', () => {
  const openStore = tempMetadataStores('weir-audit-journal-');

  async function store(): Promise<{ s: MetadataDb; dir: string }> {
    const { store: s, dir } = openStore();
    await migrate(s, auditMigrations);
    return { s, dir };
  }

  const journalFiles = (dir: string) =>
    fs
      .readdirSync(dir)
      .filter((f) => f.includes('audit-journal'))
      .sort();

  it('has the event in the journal file when append resolves, and stages nothing in the table', async () => {
    const { s, dir } = await store();
    const writer = createAuditWriter(s);
    const id = `durable-${randomBytes(4).toString('hex')}`;
    await writer.append(event(id));
    const files = journalFiles(dir);
    expect(files).toEqual(['weir.db-audit-journal.1']);
    expect(fs.readFileSync(path.join(dir, files[0] as string), 'utf8')).toBe(line(event(id)));
    const staged = await s.db
      .selectFrom('audit_events' as never)
      .selectAll()
      .execute();
    expect(staged).toEqual([]);
    await writer.close();
    // Closing keeps the file: its events wait for the next compaction.
    expect(journalFiles(dir)).toEqual(['weir.db-audit-journal.1']);
  });

  it('hands over what a killed process left, then the sealed file, and continues after the highest generation', async () => {
    const { s, dir } = await store();
    const base = path.join(dir, 'weir.db-audit-journal');
    // Left by a kill: two closed files, and one a compaction had already assigned to a Delta version (not handed over
    // by the writer: compaction finds those itself).
    fs.writeFileSync(`${base}.3`, line(event('a')));
    fs.writeFileSync(`${base}.10`, line(event('b')));
    fs.writeFileSync(`${base}.11.v4`, line(event('c')));
    const writer = createAuditWriter(s);
    const journal = writer.journal;
    if (!journal) throw new Error('a SQLite store with a file has a journal');
    expect(journal.base).toBe(base);
    expect(journal.nextFile()).toBe(`${base}.12`);
    await Promise.all([writer.append(event('d')), writer.append(event('e'))]);
    expect(journal.seal()).toEqual([`${base}.3`, `${base}.10`, `${base}.12`]);
    expect(fs.readFileSync(`${base}.12`, 'utf8')).toBe(line(event('d')) + line(event('e')));
    // Nothing new: sealing again hands over nothing, and creates no empty file.
    expect(journal.seal()).toEqual([]);
    await writer.append(event('f'));
    expect(journalFiles(dir)).toContain('weir.db-audit-journal.13');
    expect(journal.seal()).toEqual([`${base}.13`]);
    await writer.close();
  });

  it('refuses an append whose journal file cannot be opened, and takes the next one in a new file', async () => {
    const { s, dir } = await store();
    const writer = createAuditWriter(s);
    const journal = writer.journal;
    if (!journal) throw new Error('a SQLite store with a file has a journal');
    const blocked = journal.nextFile();
    fs.mkdirSync(blocked);
    await expect(writer.append(event('refused'))).rejects.toThrow();
    await writer.append(event('after'));
    const files = journal.seal();
    expect(files).toHaveLength(1);
    expect(files[0]).not.toBe(blocked);
    expect(fs.readFileSync(files[0] as string, 'utf8')).toBe(line(event('after')));
    expect(fs.statSync(blocked).isDirectory()).toBe(true);
    await writer.close();
    expect(journalFiles(dir).length).toBeGreaterThan(0);
  });
});
