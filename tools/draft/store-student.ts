// Stores a trained student folder (e.g. `<run>/student` of `npm start`) as a compact copy: float16 tensors, no
// duplicate of a tied head, the teacher's tokenizer. Used for the bench students under models/, which must stay
// small (the working tree travels to the GPU machine with a 64 MiB limit).
//
//   node --conditions=source --import tsx tools/draft/store-student.ts --from runs/x/student --out models/sotu-tiny-mamba2-50 --teacher models/sotu-tiny
import { parseArgs } from 'node:util';
import { loadHybrid, saveHybrid } from '@mil/models';

const { values: a } = parseArgs({ options: { from: { type: 'string' }, out: { type: 'string' }, teacher: { type: 'string', default: 'models/sotu-tiny' } } });
if (!a.from || !a.out) throw new Error('--from <student folder> and --out <folder> are required');
const s = await loadHybrid(a.from, { mamba1Layout: 'separate' });
await saveHybrid(a.out, { teacher: s.teacher, hybrid: s.hybrid, weights: s.weights }, { dtype: 'F16', tokenizerFrom: a.teacher, teacherNameOrPath: a.teacher, tiedLmHead: false });
console.error(`stored ${a.from} as float16 in ${a.out} (${[...s.weights.values()].reduce((n, w) => n + w.length, 0).toLocaleString('en-US')} parameters)`);
