"""A tiny randomly initialised Qwen2 with a BPE tokenizer trained here, for offline CPU runs.

Used by the CPU tests and by ``benchmarks/train_gpu.py --tiny`` (the GPU benchmark's CPU
twin). Nothing is downloaded: the byte-level BPE vocabulary is learnt from the text given
(the agent's system prompt and tool manual are always included, so prompts tokenise
compactly), the chat template is ChatML, and the end-of-turn token is ``<|im_end|>``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] "
          "+ '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2048):
    """A byte-level BPE ``PreTrainedTokenizerFast`` learnt from ``texts`` (ChatML template)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from agent.llm.text_protocol import tool_manual
    from agent.prompts import system_prompt
    from agent.tools import TOOLS

    corpus = [system_prompt(60), tool_manual(TOOLS), *texts]
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(corpus, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  padding_side="left")
    tok.chat_template = CHATML
    return tok


def build_tiny_model(out_dir: str | Path, texts: Iterable[str] = (), *, vocab_size: int = 2048, hidden: int = 64,
                     layers: int = 2, heads: int = 4, max_positions: int = 16384, seed: int = 0) -> Path:
    """Write a random Qwen2 causal LM and its tokenizer to ``out_dir``; returns the directory."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    out = Path(out_dir)
    tok = train_tokenizer(texts, vocab_size)
    cfg = Qwen2Config(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                      num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
                      max_position_embeddings=max_positions, tie_word_embeddings=True,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None)
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(cfg)
    model.generation_config = GenerationConfig(eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
