// Child process for the interop tests and bench:decode: runs a transformers.js model folder with the real
// @huggingface/transformers (it brings its own onnxruntime-node, whose libonnxruntime.so.1 cannot share a process
// with ours). Reads a JSON request on argv[2], prints one JSON line.
//   { root, name, dtype, prompts, maxNewTokens } → { prompts: [{ ids, tokens, lastLogits }] }
import { AutoTokenizer, AutoModelForCausalLM, env, type Tensor } from '@huggingface/transformers';

interface Request { root: string; name: string; dtype: 'fp32' | 'fp16'; prompts: string[]; maxNewTokens: number; threads?: number }

const req = JSON.parse(process.argv[2]) as Request;
env.allowRemoteModels = false;
env.localModelPath = req.root;
const tok = await AutoTokenizer.from_pretrained(req.name);
const model = await AutoModelForCausalLM.from_pretrained(req.name, {
  dtype: req.dtype,
  session_options: req.threads ? { intraOpNumThreads: req.threads, interOpNumThreads: 1 } : undefined,
});
const out = [];
for (const p of req.prompts) {
  const enc = tok(p);
  const ids = Array.from(enc.input_ids.data as BigInt64Array, Number);
  const fwd = (await model(enc)) as { logits: Tensor };
  const [, n, v] = fwd.logits.dims;
  const logits = fwd.logits.to('float32').data as Float32Array;
  const lastLogits = Array.from(logits.subarray((n - 1) * v, n * v));
  const gen = (await model.generate({ ...enc, max_new_tokens: req.maxNewTokens, do_sample: false })) as Tensor;
  const tokens = Array.from(gen.data as BigInt64Array, Number).slice(ids.length);
  out.push({ ids, tokens, lastLogits });
}
await model.dispose();
process.stdout.write(JSON.stringify({ prompts: out }) + '\n');
