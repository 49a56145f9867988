import { describe, expect, it } from 'vitest';
import { splitOpenMetricsByDay } from './prometheus-server';

describe('splitOpenMetricsByDay', () => {
  it('gives each UTC day its own document with the family headers it needs', () => {
    const text = [
      '# HELP a_metric A',
      '# TYPE a_metric counter',
      'a_metric_total{x="1"} 1 86399',
      'a_metric_total{x="1"} 2 86401',
      '# HELP b_metric B',
      '# TYPE b_metric counter',
      'b_metric_total 5 86402',
      '# EOF',
      '',
    ].join('\n');
    expect(splitOpenMetricsByDay(text)).toEqual([
      '# HELP a_metric A\n# TYPE a_metric counter\na_metric_total{x="1"} 1 86399\n# EOF\n',
      '# HELP a_metric A\n# TYPE a_metric counter\na_metric_total{x="1"} 2 86401\n# HELP b_metric B\n# TYPE b_metric counter\nb_metric_total 5 86402\n# EOF\n',
    ]);
  });
});
