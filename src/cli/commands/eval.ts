/** `tsvision eval`: loss, top-1/top-5 and a confusion matrix of weights on a data spec. */
import { defineCommand } from '../options.ts';
import { dataSpecProblem } from '../paths.ts';

/** The eval command. */
export const evalCommand = defineCommand({
  summary: 'evaluate weights on a data spec: loss, top-1/top-5 and a confusion matrix',
  options: {
    model: { type: 'string', required: true, placeholder: 'name', help: 'registry model' },
    weights: { type: 'string', required: true, placeholder: 'w', help: 'a train --output dir, a checkpoint dir, a .safetensors file or hub id' },
    data: { type: 'string', required: true, placeholder: 'spec', help: 'as for train; the validation split is used (the train split when there is none)', check: dataSpecProblem },
    'batch-size': { type: 'integer', min: 1, default: 64, placeholder: 'n', help: 'images per batch' },
    'img-size': { type: 'integer', min: 8, placeholder: 'n', help: 'input side', defaultHelp: "the data's or the model's" },
    'skip-corrupt': { type: 'boolean', help: 'report and leave out image files that cannot be decoded (default: stop naming the file)' },
  },
  async run(values) {
    const { runEvaluation } = await import('../../tasks/train.ts');
    const r = await runEvaluation({
      model: values.model,
      weights: values.weights,
      data: values.data,
      batchSize: values['batch-size'],
      imgSize: values['img-size'],
      onCorrupt: values['skip-corrupt'] ? 'skip' : 'fail',
    });
    console.log(`images ${r.count}  loss ${r.loss.toFixed(4)}  top-1 ${(r.top1 * 100).toFixed(2)}%  top-5 ${(r.top5 * 100).toFixed(2)}%`);
    if (r.classes.length <= 20) console.log(r.confusion.format(r.classes));
  },
});
