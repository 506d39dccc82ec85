import { describe, expect, it } from 'vitest';
import {
  type FilterClause,
  parseExperimentFilter,
  parseExperimentOrderBy,
  parseLikePattern,
  parseLoggedModelFilter,
  parseModelVersionFilter,
  parseModelVersionOrderBy,
  parseRegisteredModelFilter,
  parseRegisteredModelOrderBy,
  parseRunFilter,
  parseRunOrderBy,
  SearchGrammarError,
} from './search-grammar.ts';

// Expected values below are written by hand from MLflow's `search_utils.py` / store code and
// its tests (tests/utils/test_search_utils.py, tests/store/*/test_sqlalchemy_store.py).
// Python set reprs are rendered in sorted order (MLflow's own order is hash-dependent).

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SearchGrammarError);
    return (err as Error).message;
  }
  throw new Error('expected a SearchGrammarError');
}

const RUN_KEYS =
  "{'Created', 'Run Name', 'Run name', 'artifact_uri', 'created', 'end_time', 'run name', 'run_id', 'run_name', 'start_time', 'status', 'user_id'}";
const RUN_ORDER_KEYS = "{'Created', 'artifact_uri', 'created', 'end_time', 'run_id', 'run_name', 'start_time', 'status', 'user_id'}";
const ENTITY_LIST = "['metric', 'parameter', 'tag', 'attribute', 'dataset']";

describe('parseRunFilter: structure', () => {
  it('returns no clauses for an empty or missing filter', () => {
    expect(parseRunFilter(undefined)).toEqual([]);
    expect(parseRunFilter('')).toEqual([]);
  });

  it('parses AND-ed clauses, AND in any case', () => {
    expect(parseRunFilter("metrics.rmse < 1 and params.model_class = 'LR' AnD tags.team = 'ml'")).toEqual([
      { type: 'metric', key: 'rmse', comparator: '<', value: 1 },
      { type: 'param', key: 'model_class', comparator: '=', value: 'LR' },
      { type: 'tag', key: 'team', comparator: '=', value: 'ml' },
    ]);
  });

  it('accepts every entity alias', () => {
    const f = (s: string) => parseRunFilter(s)[0];
    expect(f('metric.a > 1')).toEqual({ type: 'metric', key: 'a', comparator: '>', value: 1 });
    expect(f('metrics.a > 1')).toEqual({ type: 'metric', key: 'a', comparator: '>', value: 1 });
    for (const p of ['param', 'params', 'parameter', 'parameters']) {
      expect(f(`${p}.a = 'x'`)).toEqual({ type: 'param', key: 'a', comparator: '=', value: 'x' });
    }
    for (const t of ['tag', 'tags']) expect(f(`${t}.a = 'x'`)).toEqual({ type: 'tag', key: 'a', comparator: '=', value: 'x' });
    for (const a of ['attribute', 'attributes', 'attr', 'run']) {
      expect(f(`${a}.status = 'FINISHED'`)).toEqual({ type: 'attribute', key: 'status', comparator: '=', value: 'FINISHED' });
    }
    for (const d of ['dataset', 'datasets']) expect(f(`${d}.digest = 'abc'`)).toEqual({ type: 'dataset', key: 'digest', comparator: '=', value: 'abc' });
    expect(f('`metrics`.a > 1')).toEqual({ type: 'metric', key: 'a', comparator: '>', value: 1 });
  });

  it('treats a bare key as an attribute', () => {
    expect(parseRunFilter("status = 'RUNNING'")).toEqual([{ type: 'attribute', key: 'status', comparator: '=', value: 'RUNNING' }]);
  });

  it('reads quoted keys with spaces, hyphens and dots', () => {
    expect(parseRunFilter('tags."extra-key" = \'v\'')[0]).toEqual({ type: 'tag', key: 'extra-key', comparator: '=', value: 'v' });
    expect(parseRunFilter('metrics.`Mean Square Error` <= 0.5')[0]).toEqual({ type: 'metric', key: 'Mean Square Error', comparator: '<=', value: 0.5 });
    expect(parseRunFilter('params."a.b c" = \'1\'')[0]).toEqual({ type: 'param', key: 'a.b c', comparator: '=', value: '1' });
    expect(parseRunFilter("tags.`mlflow.source.type` != 'LOCAL'")[0]).toEqual({ type: 'tag', key: 'mlflow.source.type', comparator: '!=', value: 'LOCAL' });
  });

  it('keeps unquoted dotted keys after the entity', () => {
    expect(parseRunFilter("tags.mlflow.runName = 'x'")).toEqual([{ type: 'tag', key: 'mlflow.runName', comparator: '=', value: 'x' }]);
  });

  it('accepts single- and double-quoted values, verbatim', () => {
    expect(parseRunFilter('params.a = "b c"')[0]?.value).toBe('b c');
    expect(parseRunFilter("params.a = 'it''s'")[0]?.value).toBe("it''s");
    expect(parseRunFilter("params.a = ''")[0]?.value).toBe('');
  });

  it('reads integers, floats, negatives and exponents for metrics', () => {
    const v = (s: string) => parseRunFilter(`metrics.m > ${s}`)[0]?.value;
    expect(v('3')).toBe(3);
    expect(v('0.25')).toBe(0.25);
    expect(v('-2')).toBe(-2);
    expect(v('-.5')).toBe(-0.5);
    expect(v('1.')).toBe(1);
    expect(v('1e3')).toBe(1000);
    expect(v('2.5E-1')).toBe(0.25);
  });

  it('accepts every metric comparator', () => {
    for (const op of ['=', '!=', '>', '>=', '<', '<='] as const) {
      expect(parseRunFilter(`metrics.a ${op} 1`)).toEqual([{ type: 'metric', key: 'a', comparator: op, value: 1 }]);
    }
  });

  it('accepts = != LIKE ILIKE for params and tags, in any case', () => {
    expect(parseRunFilter("params.a like 'x%'")[0]?.comparator).toBe('LIKE');
    expect(parseRunFilter("tags.a ILIKE '%X'")[0]?.comparator).toBe('ILIKE');
    expect(parseRunFilter("tags.a != 'x'")[0]?.comparator).toBe('!=');
  });

  it('supports IS NULL / IS NOT NULL on params and tags', () => {
    expect(parseRunFilter('params.lr IS NULL and tags.env is not null')).toEqual([
      { type: 'param', key: 'lr', comparator: 'IS NULL', value: null },
      { type: 'tag', key: 'env', comparator: 'IS NOT NULL', value: null },
    ]);
  });
});

describe('parseRunFilter: attributes and datasets', () => {
  it('normalises run name aliases to run_name', () => {
    for (const k of ['`run name`', '"Run name"', '`Run Name`', 'run_name', 'attributes.`Run Name`']) {
      expect(parseRunFilter(`${k} = 'r'`)).toEqual([{ type: 'attribute', key: 'run_name', comparator: '=', value: 'r' }]);
    }
  });

  it('normalises created / Created to start_time (numeric)', () => {
    expect(parseRunFilter('created > 100')).toEqual([{ type: 'attribute', key: 'start_time', comparator: '>', value: 100 }]);
    expect(parseRunFilter('attr.Created <= 5')).toEqual([{ type: 'attribute', key: 'start_time', comparator: '<=', value: 5 }]);
    expect(parseRunFilter('end_time != 0')).toEqual([{ type: 'attribute', key: 'end_time', comparator: '!=', value: 0 }]);
  });

  it('accepts the string attributes with = != LIKE ILIKE', () => {
    for (const k of ['run_id', 'run_name', 'status', 'user_id', 'artifact_uri']) {
      expect(parseRunFilter(`attributes.${k} ILIKE '%a%'`)).toEqual([{ type: 'attribute', key: k, comparator: 'ILIKE', value: '%a%' }]);
    }
  });

  it('parses run_id IN / NOT IN lists, keeping only lower-case ids like MLflow', () => {
    expect(parseRunFilter('run_id IN (\'abc\', "def")')).toEqual([{ type: 'attribute', key: 'run_id', comparator: 'IN', value: ['abc', 'def'] }]);
    expect(parseRunFilter("attributes.run_id not in ('a1b2',)")).toEqual([{ type: 'attribute', key: 'run_id', comparator: 'NOT IN', value: ['a1b2'] }]);
    expect(parseRunFilter("run_id in ('single')")).toEqual([{ type: 'attribute', key: 'run_id', comparator: 'IN', value: ['single'] }]);
    expect(parseRunFilter("run_id IN ('Upper', '1234', 'ok')")[0]?.value).toEqual(['ok']);
  });

  it('parses dataset clauses including lists', () => {
    expect(parseRunFilter("datasets.name IN ('train', 'test') AND dataset.context = 'eval' AND datasets.digest LIKE 'ab%'")).toEqual([
      { type: 'dataset', key: 'name', comparator: 'IN', value: ['train', 'test'] },
      { type: 'dataset', key: 'context', comparator: '=', value: 'eval' },
      { type: 'dataset', key: 'digest', comparator: 'LIKE', value: 'ab%' },
    ]);
    expect(parseRunFilter("dataset.context NOT IN ('a')")[0]?.comparator).toBe('NOT IN');
  });
});

describe('parseRunFilter: MLflow error messages', () => {
  const cases: [string, string][] = [
    ["metrics.A > 0.1 OR params.B = 'LR'", "Invalid clause(s) in filter string: 'OR'"],
    ['attribute.status = true', "Invalid clause(s) in filter string: 'attribute.status', '=', 'true'"],
    ["params.a = 'x';", "Invalid clause(s) in filter string: ';'"],
    ["(params.a = 'x')", "Invalid clause(s) in filter string: '(params.a = 'x')'"],
    [
      'metric.acc >= 0.94; metrics.rmse < 1',
      "Search filter contained multiple expression 'metric.acc >= 0.94; metrics.rmse < 1'. Provide AND-ed expression list.",
    ],
    ["tags.a = 'it''s'; x", "Search filter contained multiple expression \"tags.a = 'it''s'; x\". Provide AND-ed expression list."],
    ['   ', "Invalid filter '   '. Could not be parsed."],
    ['1=1', "Invalid comparison clause. Expected 'Identifier' found '1'"],
    ["'a' = 'b'", "Invalid comparison clause. Expected 'Identifier' found ''a''"],
    ['m.acc >= 0.94', `Invalid entity type 'm'. Valid values are ${ENTITY_LIST}`],
    ['acc >= 0.94', `Invalid attribute key 'acc' specified. Valid keys are '${RUN_KEYS}'`],
    ["lifecycle_stage = 'active'", `Invalid attribute key 'lifecycle_stage' specified. Valid keys are '${RUN_KEYS}'`],
    ["dataset.status = 'true'", "Invalid dataset key 'status' specified. Valid keys are '{'context', 'digest', 'name'}'"],
    ["metric.model = 'LR'", "Expected numeric value type for metric. Found 'LR'"],
    ['metrics.a > 0x1F', "Invalid clause(s) in filter string: 'metrics.a', '>', '0x1F'"],
    ['metrics.a > 1 + 2', 'Expected numeric value type for metric. Found 1 + 2'],
    ['params.acc = 5', "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 5"],
    ['tags.acc = 5', "Expected a quoted string value for tag (e.g. 'my-value'). Got value 5"],
    ['params.acc = NULL', "Expected a quoted string value for parameter (e.g. 'my-value'). Got value NULL"],
    ['params.acc = LR', 'Parameter value is either not quoted or unidentified quote types used for string value LR. Use either single or double quotes.'],
    ['tags.acc = `LR`', 'Parameter value is either not quoted or unidentified quote types used for string value `LR`. Use either single or double quotes.'],
    ['attribute.status = 1', 'Expected a quoted string value for attributes. Got value 1'],
    ["start_time = 'now'", "Expected numeric value type for numeric attribute: start_time. Found 'now'"],
    ["status IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."],
    ['dataset.name = 1', 'Expected a quoted string value for dataset attributes. Got value 1'],
    ['run_id IN ()', 'While parsing a list in the query, expected a non-empty list of string values, but got empty list'],
    ["run_id IN ('a',,)", 'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.'],
    ["run_id IN ('a', 1)", "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ('a', 1)"],
    ['run_id IN (1)', 'While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: (1,)'],
    ['metrics.acc IS NULL', "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'acc'"],
    ['status IS NOT NULL', "IS NULL / IS NOT NULL is only supported for tags and params, not for 'attribute' 'status'"],
    ["params.a IS 'x'", "Invalid clause(s) in filter string: 'params.a', 'IS', ''x''"],
    // Comparator checks (MLflow's store; note MLflow's own inconsistent closing quotes).
    ['metrics.a == 1', "Invalid comparator '==' not one of '{'!=', '<', '<=', '=', '>', '>='}"],
    ["metrics.a LIKE 'x'", "Expected numeric value type for metric. Found 'x'"],
    ['metrics.a <> 1', "Invalid comparator '<>' not one of '{'!=', '<', '<=', '=', '>', '>='}"],
    ["params.a > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'ILIKE', 'IS NOT NULL', 'IS NULL', 'LIKE'}'"],
    ["tags.a NOT LIKE 'x'", "Invalid comparator 'NOT LIKE' not one of '{'!=', '=', 'ILIKE', 'IS NOT NULL', 'IS NULL', 'LIKE'}"],
    ["status > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}'"],
    ['start_time LIKE 5', "Invalid comparator 'LIKE' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}"],
    ["datasets.name > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}"],
  ];
  for (const [filter, message] of cases) {
    it(`rejects ${JSON.stringify(filter)}`, () => {
      expect(errorOf(() => parseRunFilter(filter))).toBe(message);
    });
  }
});

describe('parseRunOrderBy', () => {
  it('parses identifiers with an optional direction', () => {
    expect(parseRunOrderBy(undefined)).toEqual([]);
    expect(parseRunOrderBy(['metrics.acc DESC', 'params.lr', 'tags.`my tag` asc', 'attributes.start_time Desc'])).toEqual([
      { type: 'metric', key: 'acc', ascending: false },
      { type: 'param', key: 'lr', ascending: true },
      { type: 'tag', key: 'my tag', ascending: true },
      { type: 'attribute', key: 'start_time', ascending: false },
    ]);
  });

  it('accepts quoted keys with spaces', () => {
    expect(parseRunOrderBy(['metrics.`Mean Square Error`'])).toEqual([{ type: 'metric', key: 'Mean Square Error', ascending: true }]);
    expect(parseRunOrderBy(['metrics."Mean Square Error" DESC'])).toEqual([{ type: 'metric', key: 'Mean Square Error', ascending: false }]);
  });

  it('normalises aliases and orders by every run attribute', () => {
    expect(parseRunOrderBy(['created DESC'])).toEqual([{ type: 'attribute', key: 'start_time', ascending: false }]);
    expect(parseRunOrderBy(['run_id', 'run_name', 'status', 'user_id', 'artifact_uri', 'end_time']).map((o) => o.key)).toEqual([
      'run_id',
      'run_name',
      'status',
      'user_id',
      'artifact_uri',
      'end_time',
    ]);
  });

  const cases: [string[], string][] = [
    [['metrics.acc', 'metrics.acc DESC'], "`order_by` contains duplicate fields: ['metrics.acc', 'metrics.acc DESC']"],
    [['start_time', 'created DESC'], "`order_by` contains duplicate fields: ['start_time', 'created DESC']"],
    [['metrics.acc foo'], "Invalid ordering key in order_by clause 'metrics.acc foo'."],
    [['metrics.acc DESC extra'], "Invalid order_by clause 'metrics.acc DESC extra'. Could not be parsed."],
    [[''], "Invalid order_by clause ''. Could not be parsed."],
    [[' status'], "Invalid order_by clause ' status'. Could not be parsed."],
    [['a; b'], "Invalid order_by clause 'a; b'. Could not be parsed."],
    [["metrics.a = 'b'"], "Invalid order_by clause 'metrics.a = 'b''. Could not be parsed."],
    [['status, name'], "Invalid order_by clause 'status, name'. Could not be parsed."],
    [['foo.acc'], `Invalid entity type 'foo'. Valid values are ${ENTITY_LIST}`],
    [['run name'], "Invalid ordering key in order_by clause 'run name'."],
    [['lifecycle_stage'], `Invalid attribute key 'lifecycle_stage' specified. Valid keys are '${RUN_ORDER_KEYS}'`],
    [['datasets.name'], "Invalid identifier type 'dataset'"],
  ];
  for (const [orderBy, message] of cases) {
    it(`rejects ${JSON.stringify(orderBy)}`, () => {
      expect(errorOf(() => parseRunOrderBy(orderBy))).toBe(message);
    });
  }
});

describe('parseExperimentFilter', () => {
  it('parses name, time attributes and tags', () => {
    expect(parseExperimentFilter("attribute.name = 'a' AND name != 'b' AND name LIKE 'a%' AND name ILIKE '%X'")).toEqual([
      { type: 'attribute', key: 'name', comparator: '=', value: 'a' },
      { type: 'attribute', key: 'name', comparator: '!=', value: 'b' },
      { type: 'attribute', key: 'name', comparator: 'LIKE', value: 'a%' },
      { type: 'attribute', key: 'name', comparator: 'ILIKE', value: '%X' },
    ]);
    expect(parseExperimentFilter("tag.key = 'value' and tags.`k-2` != 'v' and tag.key ILIKE '%alu%'")).toEqual([
      { type: 'tag', key: 'key', comparator: '=', value: 'value' },
      { type: 'tag', key: 'k-2', comparator: '!=', value: 'v' },
      { type: 'tag', key: 'key', comparator: 'ILIKE', value: '%alu%' },
    ]);
    expect(parseExperimentFilter('creation_time > 10 and last_update_time <= 20')).toEqual([
      { type: 'attribute', key: 'creation_time', comparator: '>', value: 10 },
      { type: 'attribute', key: 'last_update_time', comparator: '<=', value: 20 },
    ]);
  });

  it('supports IS NULL / IS NOT NULL on tags', () => {
    expect(parseExperimentFilter('tag.key1 IS NOT NULL AND tag.key2 IS NULL')).toEqual([
      { type: 'tag', key: 'key1', comparator: 'IS NOT NULL', value: null },
      { type: 'tag', key: 'key2', comparator: 'IS NULL', value: null },
    ]);
  });

  const cases: [string, string][] = [
    ["name = 'a' OR name = 'b'", 'Invalid clause(s) in filter string: OR'],
    ['metrics.x > 1', "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')"],
    ["experiment_id = '1'", "Invalid attribute key 'experiment_id' specified. Valid keys are '{'creation_time', 'last_update_time', 'name'}'"],
    ["creation_time = 'x'", "Expected numeric value type for numeric attribute: creation_time. Found 'x'"],
    ['tags.a = 1', "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1"],
    ["name IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."],
    ['name IS NULL', "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name'"],
    // The experiment store compares comparators case-sensitively.
    ["name like 'a%'", "Invalid comparator 'like' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}'"],
    ["name > 'a'", "Invalid comparator '>' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}'"],
    ['creation_time LIKE 1', "Invalid comparator 'LIKE' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}"],
    ["tags.a > 'x'", 'Invalid comparator for tag: >'],
    ["tags.a ilike 'x'", 'Invalid comparator for tag: ilike'],
  ];
  for (const [filter, message] of cases) {
    it(`rejects ${JSON.stringify(filter)}`, () => {
      expect(errorOf(() => parseExperimentFilter(filter))).toBe(message);
    });
  }
});

describe('parseExperimentOrderBy', () => {
  it('parses the orderable attributes', () => {
    expect(parseExperimentOrderBy(['name DESC', 'experiment_id', 'creation_time asc', 'attribute.last_update_time DESC'])).toEqual([
      { type: 'attribute', key: 'name', ascending: false },
      { type: 'attribute', key: 'experiment_id', ascending: true },
      { type: 'attribute', key: 'creation_time', ascending: true },
      { type: 'attribute', key: 'last_update_time', ascending: false },
    ]);
  });

  it('rejects tags and unknown keys', () => {
    expect(errorOf(() => parseExperimentOrderBy(['tags.x']))).toBe('Invalid order_by entity: tag');
    expect(errorOf(() => parseExperimentOrderBy(['foo']))).toBe(
      "Invalid attribute key 'foo' specified. Valid keys are '{'creation_time', 'experiment_id', 'last_update_time', 'name'}'",
    );
    expect(errorOf(() => parseExperimentOrderBy(['name sideways']))).toBe("Invalid ordering key in order_by clause 'name sideways'.");
  });
});

describe('parseRegisteredModelFilter', () => {
  it('parses name and tag clauses', () => {
    expect(parseRegisteredModelFilter("name = 'm' and name like 'a%' and tags.team ILIKE '%x%' and tag.`a b` != 'v'")).toEqual([
      { type: 'attribute', key: 'name', comparator: '=', value: 'm' },
      { type: 'attribute', key: 'name', comparator: 'LIKE', value: 'a%' },
      { type: 'tag', key: 'team', comparator: 'ILIKE', value: '%x%' },
      { type: 'tag', key: 'a b', comparator: '!=', value: 'v' },
    ]);
    expect(parseRegisteredModelFilter("tags.`mlflow.prompt.is_prompt` = 'true'")).toEqual([
      { type: 'tag', key: 'mlflow.prompt.is_prompt', comparator: '=', value: 'true' },
    ]);
  });

  const cases: [string, string][] = [
    ["name > 'fraud'", 'Invalid comparator for attribute: >'],
    ["tags.team > 'risk'", 'Invalid comparator for tag: >'],
    ["tags.team IN ('risk', 'platform')", "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('risk', 'platform')"],
    ["foo = 'x'", "Invalid attribute key 'foo' specified. Valid keys are '{'name'}'"],
    ["`name` = 'x'", "Invalid attribute key '`name`' specified. Valid keys are '{'name'}'"],
    ["params.a = 'x'", "Invalid entity type 'params'. Valid entity types are ('attribute', 'tag', 'tags')"],
    ['name = 5', 'Expected a quoted string value or a list of quoted string values for attributes. Got value 5'],
    ["name IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."],
    ["name = 'a' or name = 'b'", 'Invalid clause(s) in filter string: or'],
    ['tags.a IS NULL', 'Invalid comparison clause. Expected 3 tokens found 2'],
  ];
  for (const [filter, message] of cases) {
    it(`rejects ${JSON.stringify(filter)}`, () => {
      expect(errorOf(() => parseRegisteredModelFilter(filter))).toBe(message);
    });
  }
});

describe('parseRegisteredModelOrderBy', () => {
  it('maps timestamp to last_updated_timestamp', () => {
    expect(parseRegisteredModelOrderBy(['timestamp DESC', 'name'])).toEqual([
      { type: 'attribute', key: 'last_updated_timestamp', ascending: false },
      { type: 'attribute', key: 'name', ascending: true },
    ]);
    expect(parseRegisteredModelOrderBy(['timestamp', 'creation_timestamp asc'])).toEqual([
      { type: 'attribute', key: 'last_updated_timestamp', ascending: true },
      { type: 'attribute', key: 'creation_timestamp', ascending: true },
    ]);
  });

  it('rejects unknown and duplicate keys', () => {
    expect(errorOf(() => parseRegisteredModelOrderBy(['foo']))).toBe("Invalid order by key 'foo' specified. Valid keys are '{'name', 'timestamp'}'");
    expect(errorOf(() => parseRegisteredModelOrderBy(['tags.x']))).toBe("Invalid order by key 'tags.x' specified. Valid keys are '{'name', 'timestamp'}'");
    expect(errorOf(() => parseRegisteredModelOrderBy(['timestamp', 'last_updated_timestamp DESC']))).toBe(
      "`order_by` contains duplicate fields: ['timestamp', 'last_updated_timestamp DESC']",
    );
    expect(errorOf(() => parseRegisteredModelOrderBy(['TIMESTAMP']))).toBe("Invalid order_by clause 'TIMESTAMP'. Could not be parsed.");
  });
});

describe('parseModelVersionFilter', () => {
  it('parses name, run_id lists, version_number and tags', () => {
    expect(parseModelVersionFilter("name = 'm' AND run_id IN ('abc','def') AND version_number >= 2 AND source_path LIKE 's3://%' AND tags.t = 'v'")).toEqual([
      { type: 'attribute', key: 'name', comparator: '=', value: 'm' },
      { type: 'attribute', key: 'run_id', comparator: 'IN', value: ['abc', 'def'] },
      { type: 'attribute', key: 'version_number', comparator: '>=', value: 2 },
      { type: 'attribute', key: 'source_path', comparator: 'LIKE', value: 's3://%' },
      { type: 'tag', key: 't', comparator: '=', value: 'v' },
    ]);
    expect(parseModelVersionFilter("version_number = '3'")).toEqual([{ type: 'attribute', key: 'version_number', comparator: '=', value: 3 }]);
    expect(parseModelVersionFilter("run_id = 'abc'")).toEqual([{ type: 'attribute', key: 'run_id', comparator: '=', value: 'abc' }]);
  });

  const cases: [string, string][] = [
    ["name IN ('fraud', 'credit')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."],
    ["version_number LIKE '2'", 'Invalid comparator for attribute version_number: LIKE'],
    [
      "unknown_attribute = 'fraud'",
      "Invalid attribute key 'unknown_attribute' specified. Valid keys are '{'name', 'run_id', 'source_path', 'version_number'}'",
    ],
    ["name > 'fraud'", 'Invalid comparator for attribute: >'],
    ["run_id NOT IN ('a')", 'Invalid comparator for attribute: NOT IN'],
    ["tags.team > 'risk'", 'Invalid comparator for tag: >'],
    ['source_path = 5', "Only the '{'creation_timestamp', 'last_updated_timestamp', 'version_number'}' attributes support comparison with numeric values."],
    ['name = NULL', 'Expected a quoted string value or a list of quoted string values for attributes. Got value NULL'],
    ['metrics.a > 1', "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')"],
  ];
  for (const [filter, message] of cases) {
    it(`rejects ${JSON.stringify(filter)}`, () => {
      expect(errorOf(() => parseModelVersionFilter(filter))).toBe(message);
    });
  }
});

describe('parseModelVersionOrderBy', () => {
  it('parses the orderable attributes', () => {
    expect(parseModelVersionOrderBy(['name', 'version_number DESC', 'creation_timestamp', 'last_updated_timestamp ASC'])).toEqual([
      { type: 'attribute', key: 'name', ascending: true },
      { type: 'attribute', key: 'version_number', ascending: false },
      { type: 'attribute', key: 'creation_timestamp', ascending: true },
      { type: 'attribute', key: 'last_updated_timestamp', ascending: true },
    ]);
  });

  it('rejects unknown keys and duplicates', () => {
    expect(errorOf(() => parseModelVersionOrderBy(['run_id']))).toBe(
      "Invalid attribute key 'run_id' specified. Valid keys are '{'creation_timestamp', 'last_updated_timestamp', 'name', 'version_number'}'",
    );
    expect(errorOf(() => parseModelVersionOrderBy(['tags.x']))).toBe(
      "Invalid order by key 'x' specified. Valid keys are {'creation_timestamp', 'last_updated_timestamp', 'name', 'version_number'}",
    );
    expect(errorOf(() => parseModelVersionOrderBy(['name', 'name DESC']))).toBe("`order_by` contains duplicate fields: ['name', 'name DESC']");
  });
});

describe('parseLoggedModelFilter', () => {
  it('parses metrics, params, tags and attributes', () => {
    expect(
      parseLoggedModelFilter(
        "metrics.accuracy > 0.9 AND params.p = 'v' AND tags.t LIKE 'x%' AND name IN ('m1', 'm2') AND status = 'READY' AND creation_time > 5 AND last_updated_time < 9",
      ),
    ).toEqual([
      { type: 'metric', key: 'accuracy', comparator: '>', value: 0.9 },
      { type: 'param', key: 'p', comparator: '=', value: 'v' },
      { type: 'tag', key: 't', comparator: 'LIKE', value: 'x%' },
      { type: 'attribute', key: 'name', comparator: 'IN', value: ['m1', 'm2'] },
      { type: 'attribute', key: 'status', comparator: '=', value: 'READY' },
      { type: 'attribute', key: 'creation_timestamp', comparator: '>', value: 5 },
      { type: 'attribute', key: 'last_updated_timestamp', comparator: '<', value: 9 },
    ]);
    expect(parseLoggedModelFilter("model_id NOT IN ('m-abc') and source_run_id = 'r' and model_type != 'x' and creation_timestamp >= 1")).toEqual([
      { type: 'attribute', key: 'model_id', comparator: 'NOT IN', value: ['m-abc'] },
      { type: 'attribute', key: 'source_run_id', comparator: '=', value: 'r' },
      { type: 'attribute', key: 'model_type', comparator: '!=', value: 'x' },
      { type: 'attribute', key: 'creation_timestamp', comparator: '>=', value: 1 },
    ]);
  });

  const cases: [string, string][] = [
    ["params.p IN ('a')", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value ('a')"],
    ["metrics.a = 'x'", "Expected numeric value type for metric. Found 'x'"],
    [
      "foo = 'x'",
      "Invalid attribute key 'foo' specified. Valid keys are '{'creation_time', 'creation_timestamp', 'last_updated_time', 'last_updated_timestamp', 'model_id', 'model_type', 'name', 'source_run_id', 'status'}'",
    ],
    ["datasets.name = 'x'", "Invalid logged model search key 'name'"],
    ["name > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN'}'"],
    ["metrics.a > 1 OR params.b = 'c'", "Invalid clause(s) in filter string: 'OR'"],
  ];
  for (const [filter, message] of cases) {
    it(`rejects ${JSON.stringify(filter)}`, () => {
      expect(errorOf(() => parseLoggedModelFilter(filter))).toBe(message);
    });
  }
});

describe('parseLikePattern', () => {
  const like = (p: string, s: string) => parseLikePattern(p, false).test(s);
  const ilike = (p: string, s: string) => parseLikePattern(p, true).test(s);

  it('matches % and _ wildcards, anchored', () => {
    expect(like('a%', 'abc')).toBe(true);
    expect(like('a%', 'bac')).toBe(false);
    expect(like('%c', 'abc')).toBe(true);
    expect(like('%b%', 'abc')).toBe(true);
    expect(like('a_c', 'abc')).toBe(true);
    expect(like('a_c', 'abbc')).toBe(false);
    expect(like('abc', 'abc')).toBe(true);
    expect(like('abc', 'abcd')).toBe(false);
    expect(like('%', '')).toBe(true);
    expect(like('a%b%c', 'a-b-c')).toBe(true);
    expect(like('a%b%b', 'ab')).toBe(false);
    expect(like('%a%%b', 'xxaxxb')).toBe(true);
    expect(like('_', '😀')).toBe(true);
    expect(like('%x%', 'line1\nx')).toBe(true);
  });

  it('treats regex metacharacters literally', () => {
    expect(like('a.c', 'abc')).toBe(false);
    expect(like('a.c', 'a.c')).toBe(true);
    expect(like('(x)[y]{2}*+?|^$\\/', '(x)[y]{2}*+?|^$\\/')).toBe(true);
  });

  it('is case-sensitive for LIKE and not for ILIKE', () => {
    expect(like('A%', 'abc')).toBe(false);
    expect(ilike('A%', 'abc')).toBe(true);
    expect(ilike('%ALU%', 'value')).toBe(true);
  });

  it('does not backtrack catastrophically', () => {
    const subject = 'a'.repeat(20_000);
    const started = Date.now();
    expect(like('%a%a%a%a%a%a%a%b', subject)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('robustness', () => {
  const parsers: ((s: string) => unknown)[] = [
    parseRunFilter,
    parseExperimentFilter,
    parseRegisteredModelFilter,
    parseModelVersionFilter,
    parseLoggedModelFilter,
    (s) => parseRunOrderBy([s]),
    (s) => parseExperimentOrderBy([s]),
    (s) => parseRegisteredModelOrderBy([s]),
    (s) => parseModelVersionOrderBy([s]),
  ];

  function outcome(fn: () => unknown): 'ok' | 'error' {
    try {
      const result = fn();
      expect(Array.isArray(result)).toBe(true);
      return 'ok';
    } catch (err) {
      if (!(err instanceof SearchGrammarError)) throw err;
      expect(typeof err.message).toBe('string');
      return 'error';
    }
  }

  it('only ever returns clauses or throws SearchGrammarError on random input', () => {
    const fragments = [
      'metrics.',
      'params.',
      'tags.',
      'attributes.',
      'datasets.',
      'run_id',
      'name',
      'status',
      'start_time',
      'version_number',
      ' AND ',
      ' OR ',
      ' IN ',
      ' NOT ',
      ' IS ',
      ' NULL ',
      ' LIKE ',
      ' ILIKE ',
      'ASC',
      'DESC',
      '=',
      '!=',
      '>=',
      '<',
      '(',
      ')',
      ',',
      "'",
      '"',
      '`',
      '\\',
      '.',
      ';',
      '--',
      '/*',
      '*/',
      '0x1',
      '1.5e3',
      '-2',
      '%',
      '_',
      '\u0000',
      '\u00e9',
      '😀',
      '\ud800',
      ' ',
      '\n',
      '[',
      ']',
      '$a',
      ':b',
      '?',
      '#',
      '@x',
    ];
    let seed = 0x2545f491;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const seen = { ok: 0, error: 0 };
    for (let round = 0; round < 3000; round++) {
      let s = '';
      const parts = 1 + rand(12);
      for (let p = 0; p < parts; p++) {
        s += rand(4) === 0 ? String.fromCharCode(rand(0x3000)) : (fragments[rand(fragments.length)] as string);
      }
      const parser = parsers[rand(parsers.length)] as (s: string) => unknown;
      seen[outcome(() => parser(s))]++;
    }
    expect(seen.error).toBeGreaterThan(0);
    expect(seen.ok).toBeGreaterThan(0);
  });

  it('handles 100 KB inputs in linear time', () => {
    const big = 100_000;
    const clauses = `${"metrics.a > 1 AND params.b = 'x' AND ".repeat(Math.ceil(big / 38))}tags.c = 'y'`;
    const inputs = [
      clauses,
      "'".repeat(big),
      "'a".repeat(big / 2),
      '"'.repeat(big),
      '`'.repeat(big),
      "\\'".repeat(big / 2),
      '('.repeat(big),
      ')'.repeat(big),
      `run_id IN ${'('.repeat(big / 2)}'a'${')'.repeat(big / 2)}`,
      '['.repeat(big),
      '/*'.repeat(big / 2),
      '-- x\n'.repeat(big / 5),
      'NOT '.repeat(big / 4),
      'a.'.repeat(big / 2),
      'a = '.repeat(big / 4),
      '\u0000'.repeat(big),
      `metrics.\`${'x'.repeat(big)}\` > 1`,
      `run_id IN (${"'abc', ".repeat(big / 7)})`,
    ];
    const timed = (fn: () => unknown) => {
      const started = Date.now();
      outcome(fn);
      expect(Date.now() - started).toBeLessThan(3_000);
    };
    // The lexer and grouping passes are shared by every parser: stress them through the run parsers,
    // and run each other parser once on a long input.
    for (const input of inputs) {
      timed(() => parseRunFilter(input));
    }
    for (const input of inputs.slice(0, 8)) timed(() => parseRunOrderBy([input]));
    for (const parser of parsers) timed(() => parser(clauses.replaceAll('metrics.a > 1', "tags.a = 'z'")));
    expect(parseRunFilter(clauses)).toHaveLength(2 * Math.ceil(big / 38) + 1);
  }, 60_000);

  it('rejects non-string input with SearchGrammarError', () => {
    expect(errorOf(() => parseRunFilter(42 as unknown as string))).toBe("Invalid filter '42'. Could not be parsed.");
    expect(errorOf(() => parseRunOrderBy('name' as unknown as string[]))).toBe("Invalid order_by clause 'name'. Could not be parsed.");
    expect(errorOf(() => parseRunOrderBy([7 as unknown as string]))).toBe("Invalid order_by clause '7'. Could not be parsed.");
  });

  it('exposes clause objects that satisfy FilterClause', () => {
    const clauses: FilterClause[] = parseRunFilter("params.a = 'b'");
    expect(clauses[0]?.type).toBe('param');
  });
});
