"""Training the policy-writing LLM: SFT warm start, GRPO with TRL, checkpoint evaluation (docs/training.md).

Modules, one job each:

- :mod:`training.config` — ``configs/train.toml`` (typed, the paper's GRPO defaults);
- :mod:`training.data` — prompts from the training split; the held-out list is never trained on;
- :mod:`training.transcript`, :mod:`training.generation`, :mod:`training.rollout` — multi-turn
  agent episodes in sandboxed shells as token-in/token-out training samples (independent of TRL);
- :mod:`training.reward` — the reward, from the trusted evaluator only;
- :mod:`training.grpo`, :mod:`training.progress` — TRL ``GRPOTrainer`` with ``rollout_func``, metrics;
- :mod:`training.sft` — TRL ``SFTTrainer`` on trajectories that beat the best baseline;
- :mod:`training.evaluate` — checkpoints as the agent on the held-out split, success vs compute;
- :mod:`training.models`, :mod:`training.tiny` — model resolution (GGUF conversion, LoRA), a tiny local model;
- :mod:`training.cli` — ``invevolve train sft|grpo|eval``.

Training drives ``agent/`` and ``sandbox/``; neither imports ``training``. Importing this
package loads no torch, TRL or vLLM; vLLM is imported only by the vLLM generators.
"""
