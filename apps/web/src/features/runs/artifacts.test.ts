import { describe, expect, it } from 'vitest';
import { previewKind } from './ArtifactsBrowser.tsx';

describe('artifact previews', () => {
  it('chooses the preview from the file name', () => {
    expect(previewKind('model/MLmodel')).toBe('mlmodel');
    expect(previewKind('plots/roc.PNG')).toBe('image');
    expect(previewKind('metrics/summary.json')).toBe('json');
    expect(previewKind('logs/train.log')).toBe('text');
    expect(previewKind('model/requirements.txt')).toBe('text');
    expect(previewKind('model/model.onnx')).toBe('none');
    expect(previewKind('data/part-0.parquet')).toBe('none');
  });
});
