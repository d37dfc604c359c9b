# Loads models/sotu-tiny with Hugging Face transformers' LlamaForCausalLM, unchanged, and compares its logits with
# the ones our onnxruntime session produced (expected.json, written by tools/teacher/hf-check/README.md's command).
# Run where torch + transformers exist (the device machine): python3 tools/teacher/hf-check/check.py
import json, sys, torch
from transformers import LlamaForCausalLM
exp = json.load(open('tools/teacher/hf-check/expected.json'))
model = LlamaForCausalLM.from_pretrained('models/sotu-tiny', torch_dtype=torch.float32).eval()
with torch.no_grad():
    logits = model(torch.tensor([exp['ids']])).logits[0]
last = logits[-1].tolist()
diff = max(abs(a - b) for a, b in zip(last, exp['last_logits']))
argmax = logits.argmax(-1).tolist()
agree = sum(int(a == b) for a, b in zip(argmax, exp['argmax'])) / len(argmax)
print(json.dumps({'transformers': __import__('transformers').__version__, 'params': sum(p.numel() for p in model.parameters()),
                  'max_abs_diff_last_logits': diff, 'argmax_agreement': agree, 'n_tokens': len(exp['ids'])}))
sys.exit(0 if diff < 1e-2 and agree == 1.0 else 1)
