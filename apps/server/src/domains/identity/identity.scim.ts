import type { identity } from '@weir/contracts';
import { AppError } from '../../platform/errors.ts';

type ScimValue = identity.ScimValue;
type ScimPatchOperation = identity.ScimPatchOperation;

/** The three SCIM resource kinds; they share one id space. */
export type PrincipalKind = 'user' | 'service_principal' | 'group';

/** The SCIM attributes Weir keeps for a principal but does not act on. */
export interface ScimExtraAttributes {
  emails?: ScimValue[];
  name?: { givenName?: string | undefined; familyName?: string | undefined };
  entitlements?: ScimValue[];
  roles?: ScimValue[];
}

/** A principal as a PATCH or PUT edits it before it is written back in one transaction. */
export interface ScimDraft {
  kind: PrincipalKind;
  /** userName, a group's displayName, or a service principal's applicationId. */
  name: string;
  displayName: string;
  active: boolean;
  externalId: string | null;
  attributes: ScimExtraAttributes;
  /** Direct members (groups only). */
  members: Set<number>;
  /** Groups this principal is a direct member of. */
  groups: Set<number>;
}

/** The `scimType` RFC 7644 (3.12) gives a 400: which part of the request was wrong. */
export type ScimErrorType = 'invalidFilter' | 'invalidPath' | 'invalidValue' | 'invalidSyntax' | 'mutability' | 'noTarget';

/** A 400 whose SCIM error body carries `scimType` (the HTTP layer reads it from the details). */
export const scimInvalid = (scimType: ScimErrorType, message: string) => new AppError('INVALID_PARAMETER_VALUE', message, [{ scimType }]);
const invalid = (message: string) => scimInvalid('invalidValue', message);
const invalidFilter = (message: string) => scimInvalid('invalidFilter', message);
const invalidPath = (message: string) => scimInvalid('invalidPath', message);

// ------------------------------------------------------------------------------------------------ filters ----

/** A parsed SCIM filter (RFC 7644 §3.4.2.2, without complex attribute filters). */
export type ScimFilter =
  | { type: 'and' | 'or'; left: ScimFilter; right: ScimFilter }
  | { type: 'not'; inner: ScimFilter }
  | { type: 'cmp'; attr: string; op: string; value: string | number | boolean | null };

type Token = { t: 'str'; v: string } | { t: 'word'; v: string } | { t: '(' } | { t: ')' };

const COMPARE_OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ t: c });
      i++;
    } else if (c === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= text.length) throw invalidFilter('Invalid filter: unterminated string.');
        const d = text[i] as string;
        if (d === '\\') {
          const next = text[i + 1];
          if (next === undefined) throw invalidFilter('Invalid filter: unterminated string.');
          v += next;
          i += 2;
        } else if (d === '"') {
          i++;
          break;
        } else {
          v += d;
          i++;
        }
      }
      out.push({ t: 'str', v });
    } else {
      const m = /^[A-Za-z0-9_.:$-]+/.exec(text.slice(i));
      if (!m) throw invalidFilter(`Invalid filter: unexpected character '${c}'.`);
      out.push({ t: 'word', v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

/** Parses a SCIM filter such as `userName eq "a@b.c" and active eq true`; malformed filters are a 400. */
export function parseScimFilter(text: string): ScimFilter {
  const tokens = tokenize(text);
  let pos = 0;
  const peekWord = () => {
    const tok = tokens[pos];
    return tok?.t === 'word' ? tok.v.toLowerCase() : undefined;
  };
  function parseOr(depth: number): ScimFilter {
    let left = parseAnd(depth);
    while (peekWord() === 'or') {
      pos++;
      left = { type: 'or', left, right: parseAnd(depth) };
    }
    return left;
  }
  function parseAnd(depth: number): ScimFilter {
    let left = parseUnary(depth);
    while (peekWord() === 'and') {
      pos++;
      left = { type: 'and', left, right: parseUnary(depth) };
    }
    return left;
  }
  function parseUnary(depth: number): ScimFilter {
    if (depth > 32) throw invalidFilter('Invalid filter: nested too deeply.');
    const tok = tokens[pos];
    if (!tok) throw invalidFilter('Invalid filter: unexpected end.');
    if (tok.t === 'word' && tok.v.toLowerCase() === 'not' && tokens[pos + 1]?.t === '(') {
      pos++;
      return { type: 'not', inner: parseGroup(depth) };
    }
    if (tok.t === '(') return parseGroup(depth);
    if (tok.t !== 'word') throw invalidFilter('Invalid filter: expected an attribute name.');
    pos++;
    const opTok = tokens[pos];
    if (opTok?.t !== 'word') throw invalidFilter(`Invalid filter: expected an operator after ${tok.v}.`);
    const op = opTok.v.toLowerCase();
    pos++;
    if (op === 'pr') return { type: 'cmp', attr: tok.v, op, value: null };
    if (!COMPARE_OPS.has(op)) throw invalidFilter(`Invalid filter: unsupported operator '${opTok.v}'.`);
    const valTok = tokens[pos];
    pos++;
    if (valTok?.t === 'str') return { type: 'cmp', attr: tok.v, op, value: valTok.v };
    if (valTok?.t === 'word') {
      const w = valTok.v.toLowerCase();
      if (w === 'true' || w === 'false') return { type: 'cmp', attr: tok.v, op, value: w === 'true' };
      if (w === 'null') return { type: 'cmp', attr: tok.v, op, value: null };
      if (/^-?\d+(\.\d+)?$/.test(w)) return { type: 'cmp', attr: tok.v, op, value: Number(w) };
    }
    throw invalidFilter(`Invalid filter: expected a value after '${tok.v} ${opTok.v}'.`);
  }
  function parseGroup(depth: number): ScimFilter {
    if (tokens[pos]?.t !== '(') throw invalidFilter('Invalid filter: expected (.');
    pos++;
    const inner = parseOr(depth + 1);
    if (tokens[pos]?.t !== ')') throw invalidFilter('Invalid filter: missing ).');
    pos++;
    return inner;
  }
  const result = parseOr(0);
  if (pos !== tokens.length) throw invalidFilter('Invalid filter: unexpected text after the expression.');
  return result;
}

/** What a filter can look at: attribute name (lower case) → value; multi-valued attributes are arrays. */
export type FilterSubject = Record<string, string | boolean | string[] | null>;

/** Attribute names each resource kind may be filtered by, lower case, mapped to the subject key. */
export const FILTERABLE: Record<PrincipalKind, Record<string, string>> = {
  user: { id: 'id', username: 'username', displayname: 'displayname', externalid: 'externalid', active: 'active', emails: 'emails', 'emails.value': 'emails' },
  group: { id: 'id', displayname: 'displayname', externalid: 'externalid' },
  service_principal: { id: 'id', applicationid: 'applicationid', displayname: 'displayname', externalid: 'externalid', active: 'active' },
};

/** Checks every attribute a filter names exists for the kind (a 400 otherwise). */
export function checkFilterAttributes(filter: ScimFilter, kind: PrincipalKind): void {
  if (filter.type === 'not') {
    checkFilterAttributes(filter.inner, kind);
    return;
  }
  if (filter.type !== 'cmp') {
    checkFilterAttributes(filter.left, kind);
    checkFilterAttributes(filter.right, kind);
    return;
  }
  const attr = stripSchema(filter.attr).toLowerCase();
  if (!(attr in FILTERABLE[kind])) throw invalidFilter(`Invalid filter: unsupported attribute '${filter.attr}'.`);
}

function compareOne(have: string | boolean | null, op: string, want: string | number | boolean | null, caseExact: boolean): boolean {
  if (op === 'pr') return have !== null && have !== '';
  if (typeof have === 'boolean' || typeof want === 'boolean') {
    const w = typeof want === 'string' ? want.toLowerCase() === 'true' : want;
    if (op === 'eq') return have === w;
    if (op === 'ne') return have !== w;
    return false;
  }
  if (have === null) return op === 'ne' ? want !== null : op === 'eq' && want === null;
  if (want === null) return op === 'ne';
  const a = caseExact ? have : have.toLowerCase();
  const b = caseExact ? String(want) : String(want).toLowerCase();
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    default:
      return false;
  }
}

/** Evaluates a checked filter on one resource; strings compare case-insensitively except `id` (RFC 7643 caseExact). */
export function matchesFilter(filter: ScimFilter, subject: FilterSubject, kind: PrincipalKind): boolean {
  switch (filter.type) {
    case 'and':
      return matchesFilter(filter.left, subject, kind) && matchesFilter(filter.right, subject, kind);
    case 'or':
      return matchesFilter(filter.left, subject, kind) || matchesFilter(filter.right, subject, kind);
    case 'not':
      return !matchesFilter(filter.inner, subject, kind);
    default: {
      const key = FILTERABLE[kind][stripSchema(filter.attr).toLowerCase()] ?? '';
      const have = subject[key] ?? null;
      if (Array.isArray(have)) {
        if (filter.op === 'ne') return have.every((h) => compareOne(h, 'ne', filter.value, false));
        return have.some((h) => compareOne(h, filter.op, filter.value, false));
      }
      return compareOne(have, filter.op, filter.value, key === 'id');
    }
  }
}

/** Drops a schema URN prefix from an attribute path (`urn:...:User:active` → `active`). */
function stripSchema(path: string): string {
  if (!path.toLowerCase().startsWith('urn:')) return path;
  const at = path.lastIndexOf(':');
  return path.slice(at + 1);
}

// ------------------------------------------------------------------------------------------------ patches ----

/** Reads a member or group reference (`{"value": "12"}`) as a principal id; ids that cannot exist are refused by the caller. */
function referenceIds(value: unknown, attr: string): number[] {
  const list = Array.isArray(value) ? value : value !== null && typeof value === 'object' ? [value] : null;
  if (!list) throw invalid(`The value of '${attr}' must be a list of {"value": "<id>"} objects.`);
  if (list.length > 100_000) throw invalid(`Too many values for '${attr}'.`);
  return list.map((entry) => {
    const raw = entry !== null && typeof entry === 'object' ? (entry as { value?: unknown }).value : undefined;
    if (typeof raw === 'number' && Number.isSafeInteger(raw)) return raw;
    if (typeof raw === 'string' && /^\d{1,15}$/.test(raw.trim())) return Number(raw.trim());
    if (typeof raw === 'string' && raw.length > 0) return -1;
    throw invalid(`Each entry of '${attr}' needs a "value" with a principal id.`);
  });
}

/** Reads a multi-valued plain attribute (entitlements, roles, emails). */
function plainValues(value: unknown, attr: string): ScimValue[] {
  const list = Array.isArray(value) ? value : value !== null && typeof value === 'object' ? [value] : null;
  if (!list) throw invalid(`The value of '${attr}' must be a list of {"value": ...} objects.`);
  if (list.length > 1000) throw invalid(`Too many values for '${attr}'.`);
  return list.map((entry) => {
    const v = entry !== null && typeof entry === 'object' ? (entry as { value?: unknown }).value : undefined;
    if (typeof v !== 'string' || v.length === 0 || v.length > 512) throw invalid(`Each entry of '${attr}' needs a string "value".`);
    const e = entry as Record<string, unknown>;
    const out: ScimValue = { value: v };
    if (typeof e.display === 'string') out.display = e.display.slice(0, 1024);
    if (typeof e.primary === 'boolean') out.primary = e.primary;
    if (typeof e.type === 'string') out.type = e.type.slice(0, 64);
    return out;
  });
}

function booleanValue(value: unknown, attr: string): boolean {
  let v = value;
  if (Array.isArray(v) && v.length === 1 && v[0] !== null && typeof v[0] === 'object') v = (v[0] as { value?: unknown }).value;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw invalid(`The value of '${attr}' must be true or false.`);
}

function stringValue(value: unknown, attr: string, allowEmpty: boolean): string {
  let v = value;
  if (Array.isArray(v) && v.length === 1 && v[0] !== null && typeof v[0] === 'object') v = (v[0] as { value?: unknown }).value;
  if (typeof v !== 'string' || v.length > 256 || (!allowEmpty && v.trim().length === 0)) {
    throw invalid(`The value of '${attr}' must be a ${allowEmpty ? '' : 'non-empty '}string of at most 256 characters.`);
  }
  return v;
}

/** Which attributes each kind may patch (lower case → canonical name). */
const PATCHABLE: Record<PrincipalKind, Record<string, string>> = {
  user: {
    active: 'active',
    displayname: 'displayName',
    externalid: 'externalId',
    groups: 'groups',
    entitlements: 'entitlements',
    roles: 'roles',
    'name.givenname': 'name.givenName',
    'name.familyname': 'name.familyName',
    name: 'name',
    // Databricks ignores these on PATCH (they identify the user); accepted and left unchanged.
    username: 'userName',
    emails: 'emails',
  },
  group: { displayname: 'displayName', externalid: 'externalId', members: 'members', groups: 'groups', entitlements: 'entitlements', roles: 'roles' },
  service_principal: {
    active: 'active',
    displayname: 'displayName',
    externalid: 'externalId',
    groups: 'groups',
    entitlements: 'entitlements',
    roles: 'roles',
    // The applicationId identifies the service principal; Databricks does not change it on PATCH.
    applicationid: 'applicationId',
  },
};

/** Applies one attribute operation to the draft. */
function applyOne(draft: ScimDraft, op: 'add' | 'remove' | 'replace', attr: string, value: unknown, selected: number | string | null): void {
  const has = value !== undefined && value !== null;
  const needValue = () => {
    if (!has) throw invalid(`Operation '${op}' on '${attr}' needs a value.`);
  };
  switch (attr) {
    case 'userName':
    case 'emails':
    case 'applicationId':
      return;
    case 'active':
      if (op === 'remove') throw scimInvalid('mutability', "'active' cannot be removed.");
      needValue();
      draft.active = booleanValue(value, attr);
      return;
    case 'displayName':
      if (op === 'remove') {
        if (draft.kind === 'group') throw scimInvalid('mutability', "A group's displayName cannot be removed.");
        draft.displayName = draft.name;
        return;
      }
      needValue();
      draft.displayName = stringValue(value, attr, false);
      return;
    case 'externalId':
      if (op === 'remove') {
        draft.externalId = null;
        return;
      }
      needValue();
      draft.externalId = stringValue(value, attr, true);
      return;
    case 'name.givenName':
    case 'name.familyName': {
      const key = attr === 'name.givenName' ? 'givenName' : 'familyName';
      const name = { ...(draft.attributes.name ?? {}) };
      if (op === 'remove') delete name[key];
      else {
        needValue();
        name[key] = stringValue(value, attr, true);
      }
      draft.attributes.name = name;
      return;
    }
    case 'name': {
      if (op === 'remove') {
        delete draft.attributes.name;
        return;
      }
      needValue();
      if (typeof value !== 'object' || Array.isArray(value)) throw invalid("The value of 'name' must be an object.");
      const v = value as Record<string, unknown>;
      const name = op === 'replace' ? {} : { ...(draft.attributes.name ?? {}) };
      for (const key of ['givenName', 'familyName'] as const) if (v[key] !== undefined) name[key] = stringValue(v[key], `name.${key}`, true);
      draft.attributes.name = name;
      return;
    }
    case 'members':
    case 'groups': {
      const set = attr === 'members' ? draft.members : draft.groups;
      if (selected !== null) {
        if (op !== 'remove') throw invalidPath(`Only 'remove' may select ${attr}[value eq ...].`);
        if (typeof selected === 'number') set.delete(selected);
        return;
      }
      if (op === 'remove') {
        if (has) for (const id of referenceIds(value, attr)) set.delete(id);
        else set.clear();
        return;
      }
      needValue();
      const ids = referenceIds(value, attr);
      if (op === 'replace') set.clear();
      for (const id of ids) set.add(id);
      return;
    }
    case 'entitlements':
    case 'roles': {
      const current = draft.attributes[attr] ?? [];
      if (selected !== null) {
        if (op !== 'remove') throw invalidPath(`Only 'remove' may select ${attr}[value eq ...].`);
        draft.attributes[attr] = current.filter((e) => String(e.value) !== String(selected));
        return;
      }
      if (op === 'remove') {
        if (!has) draft.attributes[attr] = [];
        else {
          const drop = new Set(plainValues(value, attr).map((e) => e.value));
          draft.attributes[attr] = current.filter((e) => !drop.has(e.value));
        }
        return;
      }
      needValue();
      const incoming = plainValues(value, attr);
      const base = op === 'replace' ? [] : current;
      const seen = new Set(base.map((e) => String(e.value)));
      draft.attributes[attr] = [...base, ...incoming.filter((e) => !seen.has(String(e.value)) && seen.add(String(e.value)))];
      return;
    }
    default:
      throw invalidPath(`Attribute '${attr}' cannot be patched.`);
  }
}

/** Applies a SCIM PatchOp's operations, in order, to a draft; anything malformed is a 400 and nothing is written. */
export function applyScimPatch(draft: ScimDraft, operations: ScimPatchOperation[]): void {
  const allowed = PATCHABLE[draft.kind];
  for (const operation of operations) {
    const op = operation.op.toLowerCase();
    if (op !== 'add' && op !== 'remove' && op !== 'replace')
      throw scimInvalid('invalidSyntax', `Unsupported patch op '${operation.op}': use add, remove or replace.`);
    if (operation.path === undefined) {
      if (op === 'remove') throw scimInvalid('noTarget', "A 'remove' operation needs a path.");
      const v = operation.value;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid('An operation without a path needs an object value.');
      for (const [key, inner] of Object.entries(v as Record<string, unknown>)) {
        if (key === 'schemas' || key === 'id' || key === 'meta') continue;
        const attr = allowed[stripSchema(key).toLowerCase()];
        if (!attr) throw invalidPath(`Attribute '${key}' cannot be patched.`);
        applyOne(draft, op, attr, inner, null);
      }
      continue;
    }
    const path = stripSchema(operation.path.trim());
    const selector = /^([A-Za-z]+)\s*\[\s*value\s+eq\s+(?:"([^"]*)"|(\d+))\s*\]$/i.exec(path);
    if (selector) {
      const attr = allowed[(selector[1] as string).toLowerCase()];
      if (!attr) throw invalidPath(`Attribute '${selector[1]}' cannot be patched.`);
      const raw = selector[2] ?? selector[3] ?? '';
      const selected: number | string = attr === 'members' || attr === 'groups' ? (/^\d{1,15}$/.test(raw) ? Number(raw) : -1) : raw;
      applyOne(draft, op, attr, operation.value, selected);
      continue;
    }
    const attr = allowed[path.toLowerCase()];
    if (!attr) throw invalidPath(`Unsupported patch path '${operation.path}'.`);
    applyOne(draft, op, attr, operation.value, null);
  }
}

/** Reads references (`members`, `groups`) of a create or PUT body as ids. */
export function referencesOf(values: ScimValue[] | undefined, attr: string): number[] {
  return values ? referenceIds(values, attr) : [];
}

/** Keeps only the well-formed entries of a plain multi-valued attribute. */
export function plainValuesOf(values: ScimValue[] | undefined, attr: string): ScimValue[] | undefined {
  return values ? plainValues(values, attr) : undefined;
}
