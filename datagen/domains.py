"""The 15 industry domains of the synthetic suite and their candidate covariates.

A domain is an archetype: item names, demand scale, the demand-family variants its datasets
draw from, holding-cost range, event types with domain-specific signs, and a pool of
candidate covariates built from the shared primitives of :mod:`datagen.covariates`. Each
candidate declares its availability (SPEC §2): calendars and planned promotions are known
ahead with a horizon; weather is known on the day; most indices only after the day.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from datagen import calendar
from datagen.covariates import World, ar1, decaying_pulses, festival_intensity, poisson_onsets, promotions
from datagen.events import EventType
from inventory.sequence import Availability, FeatureKind

A, S, K = Availability.AFTER_DAY, Availability.SAME_DAY, Availability.KNOWN_AHEAD
NUM, BIN, CAT = FeatureKind.NUMERIC, FeatureKind.BINARY, FeatureKind.CATEGORICAL

CALENDAR_HORIZON = 30   # calendar fields: known a month ahead
PLAN_HORIZON = 14       # planned promotions, maintenance, launches: two weeks ahead
FESTIVAL_HORIZON = 30


@dataclass
class Ctx:
    """What a covariate builder may use: the world, the dataset's region and rng, the shift."""

    world: World
    region: int
    rng: np.random.Generator
    shift: float                      # covariate-shift strength (0 = off)
    festivals: tuple[str, ...]
    cache: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.world.n

    @property
    def ramp(self) -> np.ndarray:
        """0 -> 1 over the horizon: the time profile of covariate shift."""
        return np.arange(self.n) / (self.n - 1)

    def promo(self) -> np.ndarray:
        if "promo" not in self.cache:
            p = promotions(self.rng, self.n, mean_gap=float(self.rng.uniform(25, 50)), frequency_shift=2.0 * self.shift)
            self.cache["promo"], self.cache["flash"] = p.intensity, p.flash
        return self.cache["promo"]


def _temperature(c: Ctx) -> np.ndarray:
    return np.round(c.world.weather[c.region].temperature + 3.0 * c.shift * c.ramp, 1)


def _index(base: np.ndarray, c: Ctx, vol: float) -> np.ndarray:
    return np.round(base * np.exp(ar1(c.rng, c.n, 0.95, vol) + 0.25 * c.shift * c.ramp), 2)


def _utilization(c: Ctx) -> np.ndarray:
    return np.round(np.clip(0.65 + 0.2 * c.shift * c.ramp + ar1(c.rng, c.n, 0.9, 0.03), 0.05, 1.0), 3)


def _scheduled(c: Ctx, mean_gap: float, dur: tuple[int, int]) -> np.ndarray:
    on = poisson_onsets(c.rng, c.n, mean_gap / (1 + c.shift), 5)
    return (decaying_pulses(c.n, on, np.ones(len(on)), c.rng.integers(dur[0], dur[1] + 1, len(on)), 1e9) > 0).astype(int)


def _weekly(c: Ctx, weekend_level: float, level: float, vol: float) -> np.ndarray:
    wk = calendar.is_weekend(c.world.dates)
    return np.round(level * np.exp((weekend_level * wk) + 0.3 * c.shift * c.ramp + ar1(c.rng, c.n, 0.7, vol)), 1)


def _cooling(c: Ctx) -> np.ndarray:
    return np.round(np.maximum(_temperature(c) - 18.0, 0.0), 1)


def _heating(c: Ctx) -> np.ndarray:
    return np.round(np.maximum(18.0 - _temperature(c), 0.0), 1)


def _pollen(c: Ctx) -> np.ndarray:
    doy = calendar.day_of_year(c.world.dates)
    return np.round(np.clip(8 * np.exp(-0.5 * ((doy - 110) / 25.0) ** 2) + ar1(c.rng, c.n, 0.8, 0.8), 0, 12), 1)


Builder = Callable[[Ctx], np.ndarray]

BUILDERS: dict[str, tuple[Builder, FeatureKind, Availability, int, str]] = {
    # name: (builder, kind, availability, horizon, description)
    "temperature": (_temperature, NUM, S, 0, "daily mean temperature (deg C), observed on the day"),
    "humidity": (lambda c: c.world.weather[c.region].humidity, NUM, S, 0, "relative humidity (%)"),
    "precipitation": (lambda c: c.world.weather[c.region].precipitation, NUM, S, 0, "rainfall (mm)"),
    "uv_index": (lambda c: c.world.weather[c.region].uv_index, NUM, S, 0, "UV index 0-11"),
    "cooling_degrees": (_cooling, NUM, S, 0, "max(temperature - 18, 0)"),
    "heating_degrees": (_heating, NUM, S, 0, "max(18 - temperature, 0)"),
    "promo_intensity": (lambda c: c.promo(), NUM, K, PLAN_HORIZON, "planned promotion intensity 0-1 (announced two weeks ahead)"),
    "festival_intensity": (lambda c: festival_intensity(c.world.dates, c.festivals), NUM, K, FESTIVAL_HORIZON,
                           "festival season intensity 0-1 (ramps up before, decays after)"),
    "macro_index": (lambda c: _index(c.world.macro_index, c, 0.005), NUM, A, 0, "regional economic activity index, published the next day"),
    "cost_index": (lambda c: _index(c.world.cost_index, c, 0.005), NUM, A, 0, "input cost index, published the next day"),
    "fuel_price": (lambda c: c.world.fuel_price, NUM, A, 0, "fuel price (USD/gal), published the next day"),
    "flu_index": (lambda c: c.world.flu_index, NUM, A, 0, "influenza-like-illness index, reported the next day"),
    "utilization": (_utilization, NUM, S, 0, "plant utilization rate 0-1"),
    "maintenance_scheduled": (lambda c: _scheduled(c, 30.0, (1, 3)), BIN, K, PLAN_HORIZON, "1 on days with scheduled maintenance"),
    "machine_age_index": (lambda c: np.round(50 + 30 * c.ramp * (1 + c.shift) + ar1(c.rng, c.n, 0.99, 0.3), 1), NUM, A, 0,
                          "fleet age/wear index"),
    "admissions": (lambda c: _weekly(c, -0.25, 120.0, 0.08), NUM, A, 0, "hospital admissions (previous day)"),
    "surgeries_scheduled": (lambda c: _weekly(c, -1.2, 30.0, 0.1), NUM, K, 7, "elective surgeries on the schedule"),
    "active_users": (lambda c: np.round(1000 * np.exp(0.6 * c.shift * c.ramp + 0.15 * c.ramp + ar1(c.rng, c.n, 0.9, 0.03)), 0),
                     NUM, A, 0, "active users (thousands), reported the next day"),
    "latency_ms": (lambda c: np.round(80 * np.exp(ar1(c.rng, c.n, 0.6, 0.15)), 1), NUM, A, 0, "p95 API latency (ms)"),
    "release_scheduled": (lambda c: _scheduled(c, 45.0, (1, 2)), BIN, K, 7, "1 on days with a planned product release"),
    "marketing_campaign": (lambda c: c.promo(), NUM, K, PLAN_HORIZON, "planned marketing campaign intensity 0-1"),
    "production_plan": (lambda c: _index(np.full(c.n, 100.0), c, 0.02), NUM, K, PLAN_HORIZON, "planned vehicle production index"),
    "ev_sales_index": (lambda c: _index(np.full(c.n, 100.0), c, 0.01), NUM, A, 0, "EV sales index, published the next day"),
    "permits_index": (lambda c: _index(np.full(c.n, 100.0), c, 0.02), NUM, A, 0, "building permits index"),
    "projects_starting": (lambda c: _scheduled(c, 20.0, (2, 5)), BIN, K, 7, "1 when a large project is scheduled to start"),
    "social_buzz": (lambda c: np.round(np.exp(ar1(c.rng, c.n, 0.85, 0.25) + 0.4 * c.shift * c.ramp) * 10, 2), NUM, A, 0,
                    "social-media mentions index"),
    "wholesale_price": (lambda c: _index(np.full(c.n, 2.0), c, 0.03), NUM, A, 0, "wholesale price (USD/unit)"),
    "reservations": (lambda c: _weekly(c, 0.5, 80.0, 0.1), NUM, K, 3, "table reservations booked for the day"),
    "footfall_index": (lambda c: _weekly(c, 0.3, 100.0, 0.06), NUM, A, 0, "store footfall index (previous day)"),
    "pollen_index": (_pollen, NUM, S, 0, "pollen count index 0-12"),
    "product_launch": (lambda c: _scheduled(c, 60.0, (3, 7)), BIN, K, PLAN_HORIZON, "1 during a planned product launch"),
    "day_of_week": (lambda c: calendar.day_of_week(c.world.dates), CAT, K, CALENDAR_HORIZON, "0 = Monday ... 6 = Sunday"),
    "is_weekend": (lambda c: calendar.is_weekend(c.world.dates), BIN, K, CALENDAR_HORIZON, "1 on Saturday and Sunday"),
    "is_holiday": (lambda c: calendar.is_holiday(c.world.dates), BIN, K, CALENDAR_HORIZON, "1 on public holidays"),
    "month": (lambda c: calendar.month(c.world.dates), CAT, K, CALENDAR_HORIZON, "1 .. 12"),
}
CALENDAR_FEATURES = ("day_of_week", "is_weekend", "is_holiday", "month")


@dataclass(frozen=True)
class Domain:
    """An industry archetype."""

    slug: str
    title: str
    n_datasets: int
    items: tuple[str, ...]
    level: tuple[float, float]              # median daily demand range (log-uniform)
    families: tuple[str, ...]               # variant pool
    dispersion: tuple[float, float]         # NB size range, or log-noise sd for continuous
    effects: dict[str, tuple[float, float]]  # covariate -> effect range per standard deviation
    events: tuple[EventType, ...]
    weekend: tuple[float, float] = (-0.05, 0.1)   # weekend effect on the log-mean
    season: tuple[float, float] = (0.0, 0.15)     # amplitude of annual seasonality
    holiday: tuple[float, float] = (-0.2, 0.2)    # holiday effect on the log-mean
    h: tuple[float, float] = (0.2, 2.0)           # holding cost range
    festivals: tuple[str, ...] = ()
    zero_logit: tuple[float, float] = (-10.0, -10.0)
    event_gap: float = 120.0
    unit: str = "count"
    context: str = ""


def ev(label: str, sign: float, lo: float, hi: float, d0: int = 3, d1: int = 14) -> EventType:
    return EventType(label, sign, (lo, hi), (d0, d1))


DOMAINS: tuple[Domain, ...] = (
    Domain("consumer_products", "Consumer Products", 4,
           ("Laundry detergent 2L", "Paper towels 6-pack", "Toothpaste 100ml", "Dish soap 500ml"),
           (30, 150), ("nb", "nb", "mixture"), (20, 60),
           {"promo_intensity": (0.3, 0.7), "festival_intensity": (0.1, 0.4), "macro_index": (0.03, 0.1),
            "temperature": (-0.05, 0.05), "footfall_index": (0.05, 0.15), "cost_index": (-0.08, -0.02)},
           (ev("typhoon", 1, 0.3, 0.8, 2, 5), ev("recall", 1, 0.2, 0.6), ev("strike", -1, 0.2, 0.5)),
           weekend=(0.05, 0.25), festivals=("black_friday", "christmas"),
           context="A fast-moving household product sold through a regional retail network."),
    Domain("industrial_spare_parts", "Industrial Spare Parts", 4,
           ("Hydraulic pump seal kit", "Bearing 6205-2RS", "Conveyor belt motor", "PLC I/O module"),
           (0.8, 3.0), ("zinb", "hurdle", "hurdle"), (0.8, 3.0),
           {"utilization": (0.2, 0.5), "maintenance_scheduled": (0.4, 1.0), "machine_age_index": (0.1, 0.3),
            "macro_index": (0.02, 0.08), "temperature": (-0.05, 0.1)},
           (ev("outage", 1, 0.5, 1.2, 2, 7), ev("supplier_disruption", -1, 0.2, 0.6), ev("large_project", 1, 0.4, 1.0)),
           weekend=(-0.8, -0.3), h=(1.0, 8.0), zero_logit=(-0.5, 1.2), event_gap=150,
           context="A maintenance spare part; demand is intermittent and follows equipment wear."),
    Domain("restaurant_ingredients", "Restaurant Ingredients", 3,
           ("Fresh salmon fillet (kg)", "Mozzarella (kg)", "Burger buns (dozen)"),
           (40, 120), ("nb", "mixture"), (20, 50),
           {"temperature": (-0.1, 0.15), "precipitation": (-0.12, -0.03), "reservations": (0.1, 0.3),
            "festival_intensity": (0.1, 0.35), "macro_index": (0.02, 0.06)},
           (ev("food_safety_rumor", -1, 0.3, 0.9, 5, 21), ev("heatwave", -1, 0.1, 0.3), ev("viral_trend", 1, 0.3, 0.8)),
           weekend=(0.15, 0.35), holiday=(0.1, 0.3), festivals=("valentines", "mothers_day", "christmas"),
           context="A perishable ingredient for a restaurant group; weekends and holidays are busy."),
    Domain("medical_supplies", "Medical Supply", 3,
           ("Nitrile gloves (box)", "IV cannula 20G", "Saline 500ml"),
           (20, 90), ("nb", "mixture"), (25, 70),
           {"admissions": (0.15, 0.35), "flu_index": (0.1, 0.3), "surgeries_scheduled": (0.05, 0.2),
            "temperature": (-0.08, 0.0)},
           (ev("pandemic_wave", 1, 0.4, 1.0, 10, 30), ev("supplier_disruption", -1, 0.1, 0.3), ev("outage", -1, 0.1, 0.3)),
           weekend=(-0.3, -0.1), holiday=(-0.3, -0.1), h=(0.5, 3.0),
           context="A consumable used by a hospital network; driven by admissions and the flu season."),
    Domain("power_grid_load", "Power Grid Load", 3,
           ("Regional feeder load (MWh)", "Substation load (MWh)", "Industrial park load (MWh)"),
           (600, 1000), ("continuous",), (0.045, 0.07),
           {"cooling_degrees": (0.02, 0.05), "heating_degrees": (0.01, 0.04), "humidity": (0.0, 0.02),
            "macro_index": (0.005, 0.02)},
           (ev("heatwave", 1, 0.05, 0.15), ev("outage", -1, 0.05, 0.2, 1, 4), ev("cold_snap", 1, 0.05, 0.12)),
           weekend=(-0.08, -0.03), season=(0.0, 0.03), holiday=(-0.08, -0.03), h=(0.05, 0.3), unit="continuous",
           context="Energy to procure ahead for a grid node (continuous quantity, MWh)."),
    Domain("cloud_compute", "Cloud Compute", 3,
           ("GPU instance-hours", "vCPU reservation blocks", "Object-storage TB-days"),
           (150, 500), ("nb", "mixture", "continuous"), (20, 60),
           {"active_users": (0.1, 0.25), "latency_ms": (-0.05, 0.05), "release_scheduled": (0.1, 0.3),
            "marketing_campaign": (0.1, 0.3)},
           (ev("outage", 1, 0.2, 0.6, 1, 5), ev("viral_trend", 1, 0.2, 0.5), ev("regulation", -1, 0.1, 0.3)),
           weekend=(-0.3, -0.05), season=(0.0, 0.05), h=(0.05, 0.5),
           context="Capacity units for a cloud platform; usage grows with active users."),
    Domain("ev_battery_supply", "EV Battery Supply", 3,
           ("Battery module 60kWh", "Cell pack NMC 811", "Battery management board"),
           (10, 60), ("nb", "mixture"), (15, 45),
           {"production_plan": (0.15, 0.35), "ev_sales_index": (0.1, 0.25), "cost_index": (-0.12, -0.04),
            "fuel_price": (0.02, 0.08)},
           (ev("supplier_disruption", -1, 0.3, 0.8, 5, 21), ev("regulation", 1, 0.2, 0.5, 10, 30), ev("strike", -1, 0.2, 0.6)),
           weekend=(-0.6, -0.2), h=(1.0, 6.0),
           context="Battery components feeding an EV assembly line."),
    Domain("construction_material", "Construction Material", 3,
           ("Portland cement (ton)", "Rebar 12mm (ton)", "Ready-mix concrete (m3)"),
           (40, 250), ("nb", "mixture"), (15, 45),
           {"precipitation": (-0.25, -0.1), "temperature": (0.03, 0.12), "permits_index": (0.1, 0.25),
            "projects_starting": (0.2, 0.5), "cost_index": (-0.1, -0.02)},
           (ev("typhoon", -1, 0.4, 1.0, 3, 10), ev("large_project", 1, 0.3, 0.8, 7, 25), ev("strike", -1, 0.3, 0.7)),
           weekend=(-0.7, -0.35), season=(0.1, 0.25), holiday=(-0.6, -0.3), h=(0.3, 2.0),
           context="Bulk material for construction sites; little work on weekends and in rain."),
    Domain("cosmetics", "Cosmetics", 3,
           ("Sunscreen SPF50", "Matte lipstick", "Hydrating serum 30ml"),
           (8, 40), ("nb", "mixture"), (10, 30),
           {"promo_intensity": (0.3, 0.8), "festival_intensity": (0.2, 0.6), "social_buzz": (0.1, 0.25),
            "uv_index": (0.0, 0.2)},
           (ev("viral_trend", 1, 0.5, 1.2, 3, 12), ev("recall", -1, 0.4, 1.0, 5, 20), ev("food_safety_rumor", -1, 0.2, 0.5)),
           weekend=(0.1, 0.3), festivals=("valentines", "singles_day", "black_friday", "christmas"), h=(0.2, 1.0),
           context="A beauty product with promotion- and trend-driven demand."),
    Domain("leafy_greens", "Leafy Greens", 3,
           ("Romaine lettuce (case)", "Baby spinach 200g", "Kale bunch"),
           (60, 200), ("nb", "nb", "mixture"), (25, 70),
           {"temperature": (0.03, 0.1), "precipitation": (-0.08, -0.02), "promo_intensity": (0.15, 0.4),
            "wholesale_price": (-0.1, -0.03)},
           (ev("food_safety_rumor", -1, 0.5, 1.2, 7, 21), ev("heatwave", -1, 0.1, 0.3), ev("typhoon", 1, 0.2, 0.5, 2, 4)),
           weekend=(0.1, 0.3), season=(0.05, 0.2), h=(0.3, 1.5),
           context="A highly perishable produce item sold in supermarkets."),
    Domain("t_shirts", "T-Shirt", 3,
           ("Cotton crew-neck T-shirt (M)", "Graphic tee (L)", "Sport dry-fit tee"),
           (10, 60), ("nb", "mixture"), (12, 35),
           {"temperature": (0.1, 0.25), "promo_intensity": (0.3, 0.7), "festival_intensity": (0.2, 0.5),
            "uv_index": (0.0, 0.1), "social_buzz": (0.05, 0.15)},
           (ev("viral_trend", 1, 0.4, 1.0), ev("cold_snap", -1, 0.2, 0.5), ev("strike", -1, 0.2, 0.4)),
           weekend=(0.15, 0.35), season=(0.1, 0.3), festivals=("back_to_school", "black_friday", "christmas"),
           context="A basic apparel item; sells with warm weather and promotions."),
    Domain("beverages", "Beverages", 3,
           ("Sparkling water 12-pack", "Iced tea 1.5L", "Energy drink 250ml"),
           (80, 400), ("nb", "mixture"), (25, 70),
           {"temperature": (0.1, 0.25), "humidity": (0.0, 0.05), "promo_intensity": (0.2, 0.5),
            "festival_intensity": (0.1, 0.3), "footfall_index": (0.05, 0.1)},
           (ev("heatwave", 1, 0.3, 0.7), ev("recall", -1, 0.3, 0.8, 5, 15), ev("outage", -1, 0.1, 0.3, 1, 3)),
           weekend=(0.15, 0.35), holiday=(0.1, 0.3), festivals=("christmas", "black_friday"), h=(0.05, 0.6),
           context="A packaged drink distributed to convenience stores."),
    Domain("otc_pharmaceuticals", "OTC Pharmaceuticals", 3,
           ("Cold & flu capsules", "Antihistamine tablets", "Pain relief gel"),
           (10, 50), ("nb", "mixture", "zinb"), (15, 40),
           {"flu_index": (0.2, 0.45), "pollen_index": (0.1, 0.35), "temperature": (-0.1, 0.0),
            "promo_intensity": (0.1, 0.3)},
           (ev("pandemic_wave", 1, 0.5, 1.2, 10, 30), ev("regulation", -1, 0.2, 0.5, 10, 30), ev("recall", -1, 0.3, 0.8)),
           weekend=(-0.1, 0.1), season=(0.1, 0.3), zero_logit=(-4.0, -2.5), h=(0.3, 2.0),
           context="An over-the-counter medicine in a pharmacy chain; seasonal with illness waves."),
    Domain("bakery", "Bakery", 3,
           ("Sourdough loaf", "Croissant (6)", "Whole-wheat sandwich bread"),
           (60, 180), ("nb", "nb"), (40, 120),
           {"precipitation": (-0.08, -0.02), "promo_intensity": (0.1, 0.3), "footfall_index": (0.05, 0.15),
            "temperature": (-0.05, 0.03)},
           (ev("strike", -1, 0.2, 0.5), ev("food_safety_rumor", -1, 0.3, 0.7), ev("typhoon", 1, 0.2, 0.4, 2, 4)),
           weekend=(0.1, 0.3), holiday=(0.1, 0.4), festivals=("christmas",), h=(0.2, 1.0),
           context="A daily-baked product with strong weekly rhythm."),
    Domain("electronics_accessories", "Electronics Accessories", 3,
           ("USB-C charger 65W", "Wireless earbuds case", "Phone screen protector"),
           (2, 15), ("hurdle", "mixture", "nb"), (4, 10),
           {"promo_intensity": (0.3, 0.8), "festival_intensity": (0.3, 0.8), "product_launch": (0.3, 0.8),
            "macro_index": (0.02, 0.08)},
           (ev("viral_trend", 1, 0.5, 1.2), ev("supplier_disruption", -1, 0.3, 0.8), ev("regulation", 1, 0.2, 0.6, 10, 30)),
           weekend=(0.1, 0.3), festivals=("singles_day", "black_friday", "christmas"), zero_logit=(-3.0, -1.0),
           h=(0.5, 4.0), context="A small electronics accessory with launch- and festival-driven spikes."),
)

DOMAIN_BY_SLUG = {d.slug: d for d in DOMAINS}
assert sum(d.n_datasets for d in DOMAINS) == 47 and len(DOMAINS) == 15
