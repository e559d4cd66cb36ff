/**
 * Model parity cases: which registry models are checked against which reference, on what
 * seeded weights and input. Fixtures: tools/reference/model-fixtures.ts. Cases marked
 * `full` run only in the extended suite (npm run test:full).
 */
export interface ModelParityCase {
  /** Fixture id (file name under test/fixtures/models). */
  id: string;
  /** Registry name. */
  name: string;
  /** Reference model name when it differs (timm or torchvision name). */
  reference?: string;
  source?: 'timm' | 'torchvision';
  numClasses: number;
  seed: number;
  inputSeed: number;
  inputShape: [number, number, number, number];
  /** Too large for CI: extended suite only. */
  full?: boolean;
}

const imagenet = (name: string, size = 224, extra: Partial<ModelParityCase> = {}): ModelParityCase => ({
  id: name, name, numClasses: 1000, seed: 1, inputSeed: 2, inputShape: [2, 3, size, size], ...extra,
});

export const MODEL_PARITY_CASES: ModelParityCase[] = [
  imagenet('resnet18'),
  imagenet('resnet34'),
  imagenet('resnet50'),
  imagenet('resnet101', 160),
  imagenet('resnet152', 160),
  imagenet('resnet50', 224, { id: 'resnet50-torchvision-10cls', source: 'torchvision', numClasses: 10, inputShape: [1, 3, 96, 128] }),
];
