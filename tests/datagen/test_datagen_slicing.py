import numpy as np
import pytest

from datagen.slicing import (N_TRAIN, OOD_DOMAINS, TEST_COUNTS, SliceConfig, SliceRecord, min_separation,
                             slice_starts, standard_split)
from datagen.synthetic import dataset_plan


@pytest.mark.parametrize("seed", range(200))
def test_slices_fit_and_are_separated(seed):
    cfg = SliceConfig()
    s = slice_starts(np.random.default_rng(seed), 731, cfg)
    assert len(s) == 10 and np.all(np.diff(s) > 0)
    assert min_separation(s) >= 15
    assert s[0] >= 0 and s[-1] + cfg.length <= 731


def test_slices_use_the_whole_span():
    starts = np.concatenate([slice_starts(np.random.default_rng(i), 731, SliceConfig()) for i in range(300)])
    assert starts.min() < 20 and starts.max() > 731 - 130 - 20


def test_slices_that_cannot_fit_are_refused():
    with pytest.raises(ValueError, match="do not fit"):
        slice_starts(np.random.default_rng(0), 200, SliceConfig())


def _records():
    recs = []
    for domain, k in dataset_plan():
        ds = f"{domain.slug}_{k + 1:02d}"
        recs += [SliceRecord(f"{ds}_s{j:02d}", ds, domain.slug) for j in range(1, 11)]
    return recs


@pytest.mark.parametrize("seed", range(20))
def test_standard_split_contract(seed):
    recs = _records()
    assert len(recs) == 470
    split = standard_split(np.random.default_rng(seed), recs)
    by_name = {r.name: r for r in recs}
    train, test = split["train"], split["test"]
    assert len(train) == N_TRAIN and len(test) == 30 and not set(train) & set(test)
    test_domains = {by_name[n].domain for n in test}
    train_domains = {by_name[n].domain for n in train}
    assert len(test_domains) == 10
    assert set(OOD_DOMAINS) <= test_domains and not set(OOD_DOMAINS) & train_domains
    assert len(test_domains - train_domains) == 5
    for d, c in TEST_COUNTS.items():
        assert sum(by_name[n].domain == d for n in test) == c
    assert not {by_name[n].dataset for n in train} & {by_name[n].dataset for n in test}
