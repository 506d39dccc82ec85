import { describe, expect, it } from 'vitest';
import { trafficSummary } from './EndpointsPage.tsx';
import { endpointCounters, exampleRequest, ratePoint } from './metrics.ts';

// Text in the shape Weir's /metrics renders (weir_serving_* series), with two endpoints and an escaped label.
const TEXT = `# HELP weir_serving_requests_total Scoring requests by endpoint and served entity.
# TYPE weir_serving_requests_total counter
weir_serving_requests_total{endpoint="fraud",served_entity="v1"} 80
weir_serving_requests_total{endpoint="fraud",served_entity="v2"} 20
weir_serving_requests_total{endpoint="fraud",served_entity=""} 3
weir_serving_requests_total{endpoint="fraud2",served_entity="a"} 999
weir_serving_requests_total{endpoint="we\\"ird",served_entity="a"} 7
weir_serving_errors_total{endpoint="fraud",served_entity="v1"} 1
weir_serving_errors_total{endpoint="fraud",served_entity=""} 3
weir_serving_in_flight{endpoint="fraud",served_entity="v1"} 2
weir_serving_request_duration_seconds_bucket{endpoint="fraud",served_entity="v1",le="0.001"} 10
weir_serving_request_duration_seconds_sum{endpoint="fraud",served_entity="v1"} 0.5
weir_serving_request_duration_seconds_count{endpoint="fraud",served_entity="v1"} 78
weir_serving_request_duration_seconds_sum{endpoint="fraud",served_entity="v2"} 0.3
weir_serving_request_duration_seconds_count{endpoint="fraud",served_entity="v2"} 20
http_requests_total{endpoint="fraud"} 12345
`;

describe('endpoint metrics', () => {
  it("sums one endpoint's series over its served entities and ignores other endpoints", () => {
    const c = endpointCounters(TEXT, 'fraud');
    expect(c).toEqual({ requests: 103, errors: 4, inFlight: 2, latencySum: 0.8, latencyCount: 98, byEntity: { v1: 80, v2: 20 } });
    expect(endpointCounters(TEXT, 'we"ird').requests).toBe(7);
    expect(endpointCounters('', 'fraud').requests).toBe(0);
  });

  it('turns two reads into rates and a mean latency, and survives a counter reset', () => {
    const a = endpointCounters(TEXT, 'fraud');
    const b = { ...a, requests: a.requests + 50, errors: a.errors + 5, latencySum: a.latencySum + 0.25, latencyCount: a.latencyCount + 50 };
    const p = ratePoint(a, b, 2, 1000);
    expect(p.requestsPerSecond).toBe(25);
    expect(p.errorsPerSecond).toBe(2.5);
    expect(p.meanLatencyMs).toBeCloseTo(5, 9);
    const reset = { ...a, requests: 4, latencyCount: 0, latencySum: 0 };
    expect(ratePoint(a, reset, 2, 0).requestsPerSecond).toBe(2);
    expect(ratePoint(a, reset, 2, 0).meanLatencyMs).toBeUndefined();
  });

  it('builds a request from a split-orient example, a records example, or the signature', () => {
    expect(JSON.parse(exampleRequest({ columns: ['a', 'b'], data: [[1, 2]] }, undefined))).toEqual({
      dataframe_split: { columns: ['a', 'b'], data: [[1, 2]] },
    });
    expect(JSON.parse(exampleRequest([{ a: 1 }], undefined))).toEqual({ dataframe_records: [{ a: 1 }] });
    expect(JSON.parse(exampleRequest({ inputs: [[1]] }, undefined))).toEqual({ inputs: [[1]] });
    expect(JSON.parse(exampleRequest(undefined, '[{"type":"double","name":"a"},{"type":"string","name":"s"},{"type":"boolean","name":"f"}]'))).toEqual({
      dataframe_split: { columns: ['a', 's', 'f'], data: [[0, '', false]] },
    });
  });
});

describe('traffic summary', () => {
  it('names each route by model, alias and version with its share', () => {
    expect(
      trafficSummary({
        served_entities: [
          { name: 'champ', entity_name: 'main.default.fraud', entity_alias: 'champion', entity_version: '3' },
          { name: 'old', entity_name: 'main.default.fraud', entity_version: '2' },
        ],
        traffic_config: {
          routes: [
            { served_entity_name: 'champ', traffic_percentage: 80 },
            { served_model_name: 'old', traffic_percentage: 20 },
          ],
        },
      }),
    ).toBe('main.default.fraud@champion v3 80%, main.default.fraud v2 20%');
    expect(trafficSummary(undefined)).toBe('—');
  });
});
