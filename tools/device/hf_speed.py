"""Prefill and decode speed of a Llama checkpoint in PyTorch + Hugging Face transformers (eager attention): the
baseline `npm run bench:gpu-speed` runs beside our sessions. Also makes the random-weight checkpoint with
Llama-3.2-1B's shapes that the GPU speed table uses (never committed).

  python3 tools/device/hf_speed.py --make /tmp/llama-1b                  # random weights, bf16 safetensors, tied
  python3 tools/device/hf_speed.py --model DIR [--contexts 1024,8192] [--decode-steps 32] [--rounds 3]
                                   [--dtype float32|bfloat16|float16] [--device cuda|cpu]

Prints one JSON line per context: {"context", "prefill_tok_per_s", "decode_tok_per_s"} (medians over rounds).
Prefill is one forward of `context` random ids (seed 0); decode is --decode-steps greedy steps with the KV cache
after it, timed together with CUDA synchronisation at both ends.
"""
import argparse
import json
import statistics
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def make(out: str) -> None:
    cfg = LlamaConfig(
        vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
        num_key_value_heads=8, head_dim=64, rms_norm_eps=1e-5, rope_theta=500000.0,
        rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 8192},
        max_position_embeddings=131072, tie_word_embeddings=True, bos_token_id=128000, eos_token_id=128001,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(out, safe_serialization=True)
    print(json.dumps({"made": out, "params": sum(p.numel() for p in model.parameters())}))


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def load(path: str, dtype: torch.dtype, device: str):
    try:
        model = LlamaForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation="eager")
    except TypeError:  # transformers 4 spells it torch_dtype
        model = LlamaForCausalLM.from_pretrained(path, torch_dtype=dtype, attn_implementation="eager")
    return model.to(device).eval()


@torch.inference_mode()
def measure(model, device: str, context: int, steps: int, rounds: int) -> dict:
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (1, context), generator=gen).to(device)
    model(ids[:, :8], use_cache=True)  # warm-up: kernels, allocator
    pre, dec = [], []
    for _ in range(rounds):
        sync(device)
        t0 = time.perf_counter()
        out = model(ids, use_cache=True)
        sync(device)
        pre.append(time.perf_counter() - t0)
        past = out.past_key_values
        nxt = out.logits[:, -1:].argmax(-1)
        sync(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            out = model(nxt, past_key_values=past, use_cache=True)
            past = out.past_key_values
            nxt = out.logits[:, -1:].argmax(-1)
        sync(device)
        dec.append(time.perf_counter() - t0)
        del out, past
    return {"context": context, "prefill_tok_per_s": context / statistics.median(pre), "decode_tok_per_s": steps / statistics.median(dec)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--make")
    p.add_argument("--model")
    p.add_argument("--contexts", default="1024,8192")
    p.add_argument("--decode-steps", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--dtype", choices=list(DTYPES), default="float32")
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    a = p.parse_args()
    if a.make:
        make(a.make)
        return
    if not a.model:
        sys.exit("--model or --make is required")
    model = load(a.model, DTYPES[a.dtype], a.device)
    for c in (int(x) for x in a.contexts.split(",")):
        print(json.dumps(measure(model, a.device, c, a.decode_steps, a.rounds)), flush=True)


if __name__ == "__main__":
    main()
