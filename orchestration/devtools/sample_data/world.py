"""Global, chunk-independent context: the window, the catalogue, campaigns, segment matrices.

A `World` is built once from the config and handed (pickled) to every chunk worker; a chunk's
output is a pure function of (world, chunk index), which is what makes the output identical no
matter how many workers run or in which order they finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from orchestration.devtools.sample_data.campaigns import Campaigns, build_campaigns
from orchestration.devtools.sample_data.catalog import Catalog, build_catalog
from orchestration.devtools.sample_data.config import COUNTRIES, SEGMENTS, VALUE_TIER_SHARES, GeneratorConfig
from orchestration.devtools.sample_data.currency import ExchangeRates, build_exchange_rates
from orchestration.devtools.sample_data.shapes import MULTI_CURRENCY, Shape, shape_of

# Streams of the seed sequence; chunk streams are [seed, CHUNK_STREAM, chunk_index]. Per chunk,
# faults use FAULT_STREAM, experiment and membership plans PLAN_STREAM and the effects'
# responses EFFECT_STREAM, so switching faults or effects off leaves the other draws alone.
# Shapes draw only from their own streams (SHAPE_STREAM and EXTERNAL_STREAM per chunk,
# SHAPE_WORLD_STREAM once), so every shape keeps the full world's persons and purchases.
CATALOG_STREAM, CAMPAIGN_STREAM, PRODUCT_FAULT_STREAM, CHUNK_STREAM = 0, 1, 2, 3
FAULT_STREAM, PLAN_STREAM, EFFECT_STREAM = 4, 5, 6
SHAPE_STREAM, EXTERNAL_STREAM, SHAPE_WORLD_STREAM = 7, 8, 9
RATES_SUBSTREAM, VOCABULARY_SUBSTREAM = 0, 1  # [seed, SHAPE_WORLD_STREAM, substream]


@dataclass(frozen=True)
class SegmentMatrices:
    """Segment definitions as arrays indexed by segment index (segment_id - 1)."""

    share: np.ndarray
    category: np.ndarray
    tier: np.ndarray
    discount: np.ndarray
    channel: np.ndarray
    device: np.ndarray
    peak_hour: np.ndarray
    hour_spread: np.ndarray
    weekday: np.ndarray
    browse_per_order: np.ndarray
    search_rate: np.ndarray
    return_rate: np.ndarray
    service_rate: np.ndarray
    nps_mean: np.ndarray
    engagement: np.ndarray

    @classmethod
    def from_config(cls) -> SegmentMatrices:
        def col(attr: str) -> np.ndarray:
            return np.array([getattr(s, attr) for s in SEGMENTS], dtype=float)

        return cls(
            share=col("share"),
            category=np.array([s.category_weights for s in SEGMENTS]),
            tier=np.array([s.tier_weights for s in SEGMENTS]),
            discount=col("discount_target"),
            channel=np.array([s.channel_weights for s in SEGMENTS]),
            device=np.array([s.device_weights for s in SEGMENTS]),
            peak_hour=col("peak_hour_local"),
            hour_spread=col("hour_spread"),
            weekday=np.array([s.weekday_weights for s in SEGMENTS]),
            browse_per_order=col("browse_per_order"),
            search_rate=col("search_rate"),
            return_rate=col("return_rate"),
            service_rate=col("service_rate"),
            nps_mean=col("nps_mean"),
            engagement=col("engagement"),
        )


@dataclass(frozen=True)
class World:
    config: GeneratorConfig
    start_epoch: int  # observation start, epoch seconds UTC
    end_epoch: int  # observation end (exclusive): end_date 00:00 UTC
    horizon: float  # window length in days
    catalog: Catalog
    campaigns: Campaigns
    segments: SegmentMatrices
    n_chunks: int
    # Expected annual spend at which the medium and the high value tier start (currency units).
    value_tier_bounds: tuple[float, ...] = ()
    # With faults: products whose row staging refuses, so chunks keep faults off rows referring to them.
    refused_products: np.ndarray | None = None
    # Shape multi_currency: the monthly rates the orders' amounts are converted with.
    exchange_rates: ExchangeRates | None = None

    @property
    def shape(self) -> Shape:
        return shape_of(self.config.shape)

    @property
    def country_offsets(self) -> np.ndarray:
        return np.array([c.utc_offset_hours for c in COUNTRIES], dtype=float)

    def rng(self, *stream: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.config.seed, *stream]))

    def chunk_bounds(self, index: int) -> tuple[int, int]:
        size = self.config.chunk_size
        return index * size, min((index + 1) * size, self.config.total_persons)


def observation_window(config: GeneratorConfig) -> tuple[datetime, datetime]:
    """[start, end): end is end_date at 00:00 UTC, so every clean instant is before end_date."""
    end = datetime(config.end_date.year, config.end_date.month, config.end_date.day, tzinfo=UTC)
    return end - timedelta(days=config.history_days), end


def build_world(config: GeneratorConfig) -> World:
    start, end = observation_window(config)
    start_epoch, end_epoch = int(start.timestamp()), int(end.timestamp())
    seed_rng = np.random.default_rng(np.random.SeedSequence([config.seed, CATALOG_STREAM]))
    catalog = build_catalog(seed_rng, config.n_products)
    campaign_rng = np.random.default_rng(np.random.SeedSequence([config.seed, CAMPAIGN_STREAM]))
    campaigns = build_campaigns(campaign_rng, float(config.history_days))
    n_chunks = -(-config.total_persons // config.chunk_size)
    rates = None
    if config.shape == MULTI_CURRENCY:
        rates = build_exchange_rates(
            np.random.default_rng(np.random.SeedSequence([config.seed, SHAPE_WORLD_STREAM, RATES_SUBSTREAM])),
            start_epoch,
            end_epoch,
        )
    return World(
        config=config,
        start_epoch=start_epoch,
        end_epoch=end_epoch,
        horizon=float(config.history_days),
        catalog=catalog,
        campaigns=campaigns,
        segments=SegmentMatrices.from_config(),
        n_chunks=n_chunks,
        value_tier_bounds=value_tier_bounds(config),
        exchange_rates=rates,
    )


def value_tier_bounds(config: GeneratorConfig) -> tuple[float, ...]:
    """Exact quantiles of expected annual spend 365 * lambda * p / nu over the planted population.

    lambda * alpha ~ Gamma(r) and nu * gamma ~ Gamma(q) are independent, so their ratio is
    BetaPrime(r, q) and ratio / (1 + ratio) ~ Beta(r, q): the tier bounds follow from the
    inverse regularised incomplete beta function, the same in every chunk and for any seed.
    """
    from scipy.special import betaincinv  # imported here: workers only need the bounds

    bg, gg = config.bg_nbd, config.gamma_gamma
    levels = np.cumsum(VALUE_TIER_SHARES)[:-1]
    x = betaincinv(bg.r, gg.q, levels)
    return tuple(float(v) for v in 365.0 * gg.p * (gg.gamma / bg.alpha) * x / (1.0 - x))


def expected_annual_spend(config: GeneratorConfig, lam: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """365 * lambda * E[order value] = 365 * lambda * p / nu: what the planted value tiers rank."""
    return 365.0 * lam * config.gamma_gamma.p / nu


def value_tiers(world: World, lam: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """Planted value tier per buyer: index into VALUE_TIERS."""
    spend = expected_annual_spend(world.config, lam, nu)
    return np.searchsorted(np.array(world.value_tier_bounds), spend, side="right")
