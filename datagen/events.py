"""Rare disruptive events with a text note at onset and a decaying latent state (App. 10.3).

Each event has a type, an onset day, a duration ``D``, an intensity ``kappa`` and a sign that
depends on the domain (the same label may raise demand in one domain and cut it in another).
The latent event state is::

    e_t = sum_events sign * kappa * g(t - onset),   onset <= t < onset + D,
    g(k) = exp(-k / tau)

A note is written only on the onset day, and only when the event is observable; the state
persists without further notes, so the note is an imperfect proxy of the latent state.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datagen.covariates import poisson_onsets

# Text templates per event type; "{item}" is replaced with the dataset's item name.
NOTE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "typhoon": ("Typhoon warning issued for the region; transport and store traffic disrupted.",
                "Severe storm makes landfall; several roads closed."),
    "recall": ("Manufacturer recall announced for a competing {item} batch.",
               "Safety recall notice published affecting {item} supply."),
    "strike": ("Logistics workers announce a strike at the main distribution hub.",
               "Port labour strike begins; inbound shipments delayed."),
    "outage": ("Regional power outage reported; operations partially suspended.",
               "Major service outage at a peer provider; traffic rerouted."),
    "pandemic_wave": ("Health authority reports a sharp rise in respiratory infections.",
                      "New infection wave declared; public gatherings discouraged."),
    "food_safety_rumor": ("Social media rumour about contamination of {item} spreads.",
                          "Unverified food-safety report about {item} circulates online."),
    "supplier_disruption": ("Key supplier reports a production stoppage.",
                            "Supplier factory fire; allocations reduced."),
    "viral_trend": ("{item} featured in a viral social-media video.",
                    "Influencer campaign mentions {item}; search interest jumps."),
    "heatwave": ("Heatwave alert issued for the coming days.",
                 "Extreme heat advisory in effect."),
    "cold_snap": ("Cold-weather warning: temperatures far below normal expected.",),
    "regulation": ("New regulation on {item} announced, effective immediately.",),
    "large_project": ("Large project contract awarded in the area; bulk orders expected.",
                      "Major customer announces an expansion requiring {item}."),
}


@dataclass(frozen=True)
class EventType:
    """Domain-specific behaviour of one event label."""

    label: str
    sign: float            # +1 raises demand, -1 cuts it
    intensity: tuple[float, float]   # range of kappa (effect on log-mean at onset)
    duration: tuple[int, int]        # range of D in days


@dataclass(frozen=True)
class Event:
    label: str
    onset: int
    duration: int
    intensity: float
    sign: float
    tau: float
    observed: bool
    note: str


@dataclass(frozen=True)
class EventTrack:
    """Events of one dataset: the list, the latent state and the note column."""

    events: tuple[Event, ...]
    state: np.ndarray          # latent e_t (effect on log-mean)
    volatility: np.ndarray     # latent |e_t|-driven extra dispersion, >= 0
    note: np.ndarray           # object array of strings, "" on days without a note


def sample_events(
    rng: np.random.Generator, n: int, types: tuple[EventType, ...], *, mean_gap: float, item: str,
    observe_prob: float = 0.85,
) -> EventTrack:
    """Draw events as a renewal process (mean gap ``mean_gap`` days) over ``n`` days.

    Shock-level heterogeneity: timing, duration, intensity and observability are random.
    """
    note = np.full(n, "", dtype=object)
    state = np.zeros(n)
    events: list[Event] = []
    if not types:
        return EventTrack((), state, np.zeros(n), note)
    for onset in poisson_onsets(rng, n, mean_gap, 14):
        et = types[int(rng.integers(len(types)))]
        dur = int(rng.integers(et.duration[0], et.duration[1] + 1))
        kappa = float(rng.uniform(*et.intensity))
        tau = float(rng.uniform(0.25, 0.6) * dur)
        observed = bool(rng.random() < observe_prob)
        templates = NOTE_TEMPLATES[et.label]
        text = templates[int(rng.integers(len(templates)))].format(item=item) if observed else ""
        if observed and note[onset]:
            text = note[onset] + " " + text
        if observed:
            note[onset] = text
        k = np.arange(min(dur, n - onset))
        state[onset:onset + len(k)] += et.sign * kappa * np.exp(-k / tau)
        events.append(Event(et.label, int(onset), dur, round(kappa, 4), et.sign, round(tau, 3), observed, text))
    return EventTrack(tuple(events), state, np.abs(state), note)
