import { describe, expect, it } from 'vitest';
import * as data from './index.ts';

describe('@tinytape/data entry point', () => {
  it('exports the d2l-mirroring API', () => {
    for (const name of [
      'readTimeMachine',
      'tokenize',
      'Vocab',
      'CharVocab',
      'loadCorpusTimeMachine',
      'loadDataTimeMachine',
      'seqDataIterRandom',
      'seqDataIterSequential',
      'SeqDataLoader',
      'download',
      'loadDataJayLyrics',
      'loadDataJayChou',
      'dataIterRandom',
      'dataIterConsecutive',
      'Rng',
      'DataError',
    ] as const) {
      expect(typeof data[name], name).toBe('function');
    }
    expect(Object.keys(data.DATA_HUB).sort()).toEqual(['jaychou', 'timemachine']);
  });
});
