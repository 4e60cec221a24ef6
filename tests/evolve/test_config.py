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
