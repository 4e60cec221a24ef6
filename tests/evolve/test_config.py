import pytest

from evolve.config import ConfigError, EvolveConfig, load_config, with_overrides


def test_shipped_config_equals_defaults_and_round_trips():
    cfg = load_config("configs/evolve.toml")
    assert cfg == EvolveConfig()
    assert EvolveConfig.from_dict(cfg.to_dict()) == cfg


def test_seed_flows_into_tuning():
    cfg = with_overrides(EvolveConfig(), search_seed=9, tuning_n_trials=7)
    assert cfg.tuning.seed == 9 and cfg.search.seed == 9 and cfg.tuning.n_trials == 7


@pytest.mark.parametrize("text,msg", [
    ("[search]\nrounds = 'many'\n", "field 'search.rounds' must be an integer"),
    ("[search]\nspeed = 3\n", "field 'search.speed' is not a known setting"),
    ("[certify]\nmethod = 'bayes'\n", "method"),
    ("[sandbox]\nbackend = 'vm'\n", "sandbox.backend"),
    ("[tuning]\nseed = 1\n", "set by 'search.seed'"),
    ("[extras]\nx = 1\n", "unknown section"),
    ("rounds = = 3", "not valid TOML"),
])
def test_bad_config_names_file_and_field(tmp_path, text, msg):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=msg) as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_overrides_are_checked_by_the_same_rules_and_name_the_flag():
    with pytest.raises(ConfigError, match=r"command line: --delta \(field 'certify.delta'\) must lie strictly"):
        with_overrides(EvolveConfig(), where="command line", labels={"certify.delta": "--delta"}, certify_delta=2.0)
    with pytest.raises(ConfigError, match="field 'tuning.n_trials' must be >= 1, got 0"):
        with_overrides(EvolveConfig(), tuning_n_trials=0)
    with pytest.raises(ConfigError, match="field 'search.reference' must be one of best_baseline, base_stock"):
        with_overrides(EvolveConfig(), search_reference="oracle")
    cfg = with_overrides(EvolveConfig(), certify_eps=1, sandbox="none")
    assert cfg.certify.eps == 1.0 and isinstance(cfg.certify.eps, float) and cfg.sandbox == "none"


def test_every_rule_is_a_field_of_the_shipped_config():
    from evolve.config import RULES
    shipped = EvolveConfig().to_dict()
    assert {f"{s}.{k}" for s, t in shipped.items() for k in t} == set(RULES)
