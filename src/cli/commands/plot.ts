/** `tsvision plot RUN_DIR...`: the loss and top-1 curves of training runs overlaid in one PNG. */
import { basename, resolve } from 'node:path';
import { defineCommand, UsageError } from '../options.ts';

/** The plot command. */
export const plotCommand = defineCommand({
  summary: 'overlay the loss and top-1 curves of training runs in one PNG',
  positionals: { name: 'RUN_DIR', help: 'train --output directories' },
  options: {
    output: { type: 'string', required: true, placeholder: 'file', help: 'the PNG to write' },
    names: { type: 'string', placeholder: 'a,b,...', help: 'legend names, comma-separated', defaultHelp: 'the directory names' },
  },
  async run(values, runs) {
    const names = values.names?.split(',') ?? runs.map((d) => basename(resolve(d)));
    if (names.length !== runs.length) throw new UsageError(`--names has ${names.length} names for ${runs.length} runs`, 'plot');
    const { plotRuns } = await import('../../tasks/plot-runs.ts');
    const legend = await plotRuns(runs.map((dir, i) => ({ dir, name: names[i] })), values.output);
    console.log(`wrote ${values.output} (${legend})`);
  },
});
