"""Shared covariate primitives (InvEvolve App. 10.1).

A :class:`World` holds the latent environment every synthetic dataset draws from: the
calendar, regional weather, macro and cost indices and an influenza wave. Each dataset then
instantiates domain-specific covariates from it (see :mod:`datagen.domains`), adding its own
noise and, when covariate shift is switched on, a drift of the environment that generates
them.

Every function takes an explicit ``numpy.random.Generator`` and is deterministic given it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from datagen import calendar

N_REGIONS = 4


def ar1(rng: np.random.Generator, n: int, rho: float, sigma: float) -> np.ndarray:
    """Stationary AR(1): ``u_t = rho u_{t-1} + sigma eps_t`` started from its stationary law."""
    if not -1 < rho < 1:
        raise ValueError(f"rho must lie in (-1, 1), got {rho}")
    eps = rng.standard_normal(n) * sigma
    u = np.empty(n)
    u[0] = eps[0] / np.sqrt(1 - rho * rho)
    for t in range(1, n):
        u[t] = rho * u[t - 1] + eps[t]
    return u


def decaying_pulses(
    n: int, onsets: np.ndarray, amplitudes: np.ndarray, durations: np.ndarray, tau: np.ndarray | float
) -> np.ndarray:
    """Sum of pulses ``a * exp(-(t - onset) / tau)`` on ``[onset, onset + duration)``."""
    out = np.zeros(n)
    tau_arr = np.broadcast_to(np.asarray(tau, dtype=float), np.shape(onsets))
    for s, a, d, tt in zip(onsets, amplitudes, durations, tau_arr):
        s, d = int(s), int(d)
        if s >= n or d <= 0:
            continue
        k = np.arange(min(d, n - s))
        out[s:s + len(k)] += a * np.exp(-k / max(tt, 1e-9))
    return out


def poisson_onsets(rng: np.random.Generator, n: int, mean_gap: float, min_gap: int = 1) -> np.ndarray:
    """Onset days of a renewal process with exponential gaps (mean ``mean_gap``, at least ``min_gap``)."""
    onsets, t = [], float(rng.exponential(mean_gap))
    while t < n:
        onsets.append(int(t))
        t += max(float(min_gap), float(rng.exponential(mean_gap)))
    return np.array(onsets, dtype=int)


def stochastic_index(
    rng: np.random.Generator, n: int, *, drift: float, vol: float, jump_rate: float, jump_scale: float,
    start: float = 100.0,
) -> np.ndarray:
    """Geometric random walk with occasional spikes or drawdowns that decay (macro/cost indices)."""
    steps = drift + vol * rng.standard_normal(n)
    level = np.cumsum(steps)
    onsets = np.flatnonzero(rng.random(n) < jump_rate)
    amps = rng.normal(0.0, jump_scale, len(onsets))
    jumps = decaying_pulses(n, onsets, amps, np.full(len(onsets), 60), rng.uniform(5, 25, len(onsets)))
    return start * np.exp(level + jumps)


@dataclass(frozen=True)
class Weather:
    """Daily weather of one region."""

    temperature: np.ndarray      # deg C
    humidity: np.ndarray         # %
    precipitation: np.ndarray    # mm
    uv_index: np.ndarray         # 0 .. 11
    shock: np.ndarray            # latent: extreme-weather component of temperature


def weather(rng: np.random.Generator, dates: np.ndarray, *, mean_temp: float, amplitude: float,
            warming: float = 0.0) -> Weather:
    """Seasonal temperature + AR(1) disturbance + rare extreme shocks, then humidity,
    precipitation and UV conditional on season and temperature.

    ``T_t = mean + warming * t / n + amplitude * sin(2 pi (doy - 105) / 365.25) + u_t + s_t``;
    ``warming`` is a covariate-shift knob.
    """
    n = len(dates)
    doy = calendar.day_of_year(dates)
    season = np.sin(2 * np.pi * (doy - 105) / 365.25)
    u = ar1(rng, n, 0.8, 1.8)
    onsets = poisson_onsets(rng, n, 120.0, 20)
    amps = rng.choice([-1.0, 1.0], len(onsets)) * rng.uniform(5, 10, len(onsets))
    shock = decaying_pulses(n, onsets, amps, rng.integers(3, 9, len(onsets)), 3.0)
    temp = mean_temp + warming * np.arange(n) / n + amplitude * season + u + shock
    hum = np.clip(62 + 12 * np.cos(2 * np.pi * (doy - 15) / 365.25) - 0.6 * (u + shock)
                  + ar1(rng, n, 0.6, 6.0), 15, 100)
    p_rain = 1 / (1 + np.exp(-(hum - 75) / 6))
    rain = (rng.random(n) < p_rain) * rng.gamma(0.8, 9.0, n)
    uv = np.clip(1.5 + 4.5 * (season + 1) + 0.08 * (temp - mean_temp) - 0.12 * rain
                 + 0.6 * rng.standard_normal(n), 0, 11)
    return Weather(np.round(temp, 1), np.round(hum, 1), np.round(rain, 1), np.round(uv, 1), shock)


FESTIVALS: dict[str, tuple[str, ...]] = {
    # Fixed festival dates with a ramp before and a decay after (see festival_intensity).
    "valentines": ("2024-02-14", "2025-02-14"),
    "lunar_new_year": ("2024-02-10", "2025-01-29"),
    "mothers_day": ("2024-05-12", "2025-05-11"),
    "back_to_school": ("2024-08-20", "2025-08-19"),
    "singles_day": ("2024-11-11", "2025-11-11"),
    "black_friday": ("2024-11-29", "2025-11-28"),
    "christmas": ("2024-12-25", "2025-12-25"),
}


def festival_intensity(dates: np.ndarray, names: tuple[str, ...], ramp: int = 10, decay: float = 3.0) -> np.ndarray:
    """0..1 intensity: linear ramp over ``ramp`` days up to each festival, exponential decay after."""
    d = np.asarray(dates, dtype="datetime64[D]")
    out = np.zeros(len(d))
    for name in names:
        for day in FESTIVALS[name]:
            k = (d - np.datetime64(day)).astype(int)
            val = np.where((k <= 0) & (k > -ramp), 1 + k / ramp, np.where(k > 0, np.exp(-k / decay), 0.0))
            out = np.maximum(out, val)
    return np.round(out, 3)


@dataclass(frozen=True)
class Promotions:
    """Planned promotion windows (known ahead) plus unplanned flash shocks (latent)."""

    intensity: np.ndarray   # planned promotion intensity 0..1, decaying within a window
    flash: np.ndarray       # latent short-lived shocks


def promotions(rng: np.random.Generator, n: int, *, mean_gap: float, frequency_shift: float = 0.0) -> Promotions:
    """Event-centred promotion windows (3..10 days) with decaying intensity.

    ``frequency_shift`` > 0 makes promotions more frequent in the second half (covariate shift).
    """
    first = poisson_onsets(rng, n // 2, mean_gap, 7)
    second = n // 2 + poisson_onsets(rng, n - n // 2, mean_gap / (1 + frequency_shift), 7)
    onsets = np.concatenate([first, second])
    amps = rng.uniform(0.4, 1.0, len(onsets))
    durs = rng.integers(3, 11, len(onsets))
    intensity = np.clip(decaying_pulses(n, onsets, amps, durs, rng.uniform(2, 6, len(onsets))), 0, 1)
    f_on = np.flatnonzero(rng.random(n) < 1 / 90)
    flash = decaying_pulses(n, f_on, rng.uniform(0.3, 0.8, len(f_on)), np.full(len(f_on), 3), 1.0)
    return Promotions(np.round(intensity, 3), flash)


@dataclass
class World:
    """Latent environment shared by all datasets of a suite."""

    dates: np.ndarray
    weather: list[Weather]
    macro_index: np.ndarray
    cost_index: np.ndarray
    fuel_price: np.ndarray
    flu_index: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.dates)


def build_world(rng: np.random.Generator, start: str = "2024-01-01", days: int = 731) -> World:
    """Draw the shared environment: 4 weather regions, macro/cost/fuel indices, a flu wave."""
    dates = calendar.date_range(start, days)
    climates = [(14.0, 11.0), (22.0, 6.0), (8.0, 14.0), (17.0, 9.0)]
    regions = [weather(rng, dates, mean_temp=m, amplitude=a) for m, a in climates[:N_REGIONS]]
    macro = stochastic_index(rng, days, drift=0.00008, vol=0.003, jump_rate=1 / 250, jump_scale=0.05)
    cost = stochastic_index(rng, days, drift=0.0002, vol=0.006, jump_rate=1 / 150, jump_scale=0.12)
    fuel = stochastic_index(rng, days, drift=0.0, vol=0.01, jump_rate=1 / 120, jump_scale=0.1, start=3.5)
    doy = calendar.day_of_year(dates)
    # Winter influenza waves peaking around late January, with yearly random strength.
    years = dates.astype("datetime64[Y]").astype(int) - 54
    strength = rng.uniform(0.6, 1.4, 3)[np.clip(years, 0, 2)]
    wave = np.exp(-0.5 * (((doy - 25 + 182) % 365 - 182) / 28.0) ** 2) * strength
    flu = np.clip(10 + 60 * wave + ar1(rng, days, 0.9, 2.0), 0, None)
    return World(dates, regions, np.round(macro, 2), np.round(cost, 2), np.round(fuel, 3), np.round(flu, 1))
