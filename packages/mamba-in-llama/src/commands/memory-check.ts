// Before `mil distill` loads anything: the memory plan of its largest stage, logged, and a coded refusal
// (OUT_OF_MEMORY_PLAN with the figures) when it cannot fit in the machine's available memory.
import { totalmem } from 'node:os';
import { assertMemoryFits, checkTrainingFits, formatMemoryPlan, memoryPlan, type MainJobOptions, type MemoryPlan } from '@mil/distill';
import { loadModelFolder } from '@mil/checkpoint';
import { layerSchedule, makeHybridConfig } from '@mil/weight-transfer';

/**
 * Plans the main job's stages (75% attention on the Mamba mixers, the target schedule on the mixers, then on all
 * parameters), logs the largest plan and throws MemoryPlanError when it does not fit.
 * @example await checkMainJobMemory(opts, (l) => process.stderr.write(l + '\n'));
 */
export async function checkMainJobMemory(o: MainJobOptions, log: (line: string) => void, budgetBytes?: number): Promise<MemoryPlan> {
  const folder = await loadModelFolder(o.teacher, { tokenizer: false });
  const teacher = folder.config;
  await folder.close();
  // First the plain limits (seq within the teacher's context, activations within memory), with their own messages.
  checkTrainingFits(o, teacher, totalmem());
  const layers = teacher.numHiddenLayers;
  const first = layerSchedule(layers, { attentionFraction: 0.75 }).attnLayers;
  const target = layerSchedule(layers, { attentionFraction: o.attentionFraction }).attnLayers;
  const plans = ([[first, 'mamba'], [target, 'mamba'], [target, 'all']] as const).map(([attn, trainable]) =>
    memoryPlan({ teacher, student: makeHybridConfig(teacher, o.variant, attn), trainable, batch: o.batch, seq: o.seq, budgetBytes }),
  );
  const largest = plans.reduce((a, b) => (b.totalBytes > a.totalBytes ? b : a));
  for (const l of formatMemoryPlan(largest)) log(l);
  assertMemoryFits(largest);
  return largest;
}
