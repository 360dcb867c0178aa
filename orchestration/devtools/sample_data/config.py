"""Generator configuration and every planted parameter, kept as plain data.

Everything the truth files promise (process parameters, segment behaviour, rates) lives here so
a reader can see the planted world in one place and tests can compare the recorded truth with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from orchestration.devtools.sample_data.shapes import shape_of

GENERATOR_VERSION = "1.2.0"  # 1.1: planted causal effects (RCTs, loyalty); 1.2: company shapes

CATEGORIES: tuple[str, ...] = (
    "fashion",
    "beauty",
    "home",
    "electronics",
    "sports",
    "kids",
    "grocery",
    "books",
)
TIERS: tuple[str, ...] = ("budget", "mid", "premium")
CHANNELS: tuple[str, ...] = ("web", "app", "store")
DEVICES: tuple[str, ...] = ("desktop", "mobile", "tablet")
CONSENT_CHANNELS: tuple[str, ...] = ("email", "sms", "push", "post", "phone")
PERSON_TYPES: tuple[str, ...] = ("registered_buyer", "prospect", "guest_buyer", "anonymous_visitor")


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD purchase process: lambda ~ Gamma(r, rate=alpha), p ~ Beta(a, b); time unit day."""

    r: float = 0.9
    alpha: float = 70.0
    a: float = 1.0
    b: float = 4.0


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma spend: nu ~ Gamma(q, rate=gamma), order value ~ Gamma(p, rate=nu)."""

    p: float = 6.0
    q: float = 4.0
    gamma: float = 30.0


@dataclass(frozen=True)
class Rates:
    """Population shares and event rates that are not segment specific."""

    guest_share: float = 0.10  # guest-only buyers, as a share of --customers
    anonymous_share: float = 0.08  # anonymous-only visitors, as a share of --customers
    prospect_share: float = 0.08  # registered persons who never buy
    second_account_share: float = 0.05
    record_version_share: float = 0.15
    phone_share: float = 0.85
    guest_checkout_share: float = 0.05
    cancelled_share: float = 0.02  # extra cancelled orders per purchase occasion
    checkout_email_share: float = 0.6  # account orders that also carry the checkout email
    loyalty_share: float = 0.50  # mean intent to join; ~20% of registered buyers join (LoyaltyEffect)
    loyalty_left_share: float = 0.10
    consent_change_share: float = 0.20
    post_purchase_survey_share: float = 0.10
    service_survey_share: float = 0.35
    periodic_survey_share: float = 0.05
    open_case_share: float = 0.05
    unsubscribe_rate: float = 0.003
    shared_cookie_share: float = 0.005
    browse_login_share: float = 0.5
    cart_abandon_share: float = 0.15
    tagged_share: float = 0.5  # social and search sessions carrying utm tags (email ones always do)
    late_share: float = 0.01
    fault_share: float = 0.01
    offset_text_share: float = 0.05  # valid timestamp texts written with a non-UTC offset


@dataclass(frozen=True)
class Segment:
    """One planted needs segment; probabilities are over CATEGORIES, TIERS, CHANNELS, DEVICES."""

    segment_id: int
    name: str
    share: float
    category_weights: tuple[float, ...]
    tier_weights: tuple[float, float, float]
    discount_target: float  # target discount as a share of gross order value
    channel_weights: tuple[float, float, float]
    device_weights: tuple[float, float, float]
    peak_hour_local: float
    hour_spread: float
    weekday_weights: tuple[float, ...]  # Monday..Sunday, used for browsing
    browse_per_order: float
    search_rate: float
    return_rate: float  # per completed order line
    service_rate: float  # per account order
    nps_mean: float
    engagement: float  # multiplier on message open and click rates


SEGMENTS: tuple[Segment, ...] = (
    Segment(
        1, "bargain_families", 0.25,
        # fashion beauty home electronics sports kids grocery books
        (0.10, 0.06, 0.15, 0.03, 0.05, 0.30, 0.25, 0.06),
        (0.65, 0.30, 0.05), 0.20, (0.45, 0.20, 0.35), (0.30, 0.55, 0.15),
        20.5, 1.5, (0.10, 0.10, 0.10, 0.10, 0.12, 0.24, 0.24),
        1.6, 0.45, 0.05, 0.04, 6.8, 1.25,
    ),
    Segment(
        2, "tech_enthusiasts", 0.20,
        (0.06, 0.04, 0.08, 0.50, 0.08, 0.04, 0.05, 0.15),
        (0.15, 0.45, 0.40), 0.06, (0.60, 0.30, 0.10), (0.60, 0.32, 0.08),
        22.0, 2.0, (0.14, 0.14, 0.14, 0.14, 0.14, 0.15, 0.15),
        3.0, 0.80, 0.07, 0.06, 7.4, 0.80,
    ),
    Segment(
        3, "style_seekers", 0.22,
        (0.45, 0.25, 0.08, 0.06, 0.06, 0.03, 0.03, 0.04),
        (0.20, 0.50, 0.30), 0.10, (0.30, 0.50, 0.20), (0.15, 0.78, 0.07),
        12.5, 2.5, (0.12, 0.12, 0.12, 0.14, 0.18, 0.20, 0.12),
        2.8, 0.50, 0.22, 0.05, 7.6, 1.30,
    ),
    Segment(
        4, "home_makers", 0.18,
        (0.07, 0.05, 0.45, 0.04, 0.03, 0.10, 0.18, 0.08),
        (0.35, 0.50, 0.15), 0.08, (0.40, 0.15, 0.45), (0.40, 0.35, 0.25),
        10.0, 2.0, (0.18, 0.18, 0.18, 0.16, 0.12, 0.10, 0.08),
        1.5, 0.40, 0.04, 0.08, 8.2, 1.10,
    ),
    Segment(
        5, "outdoor_actives", 0.15,
        (0.15, 0.04, 0.06, 0.10, 0.48, 0.03, 0.08, 0.06),
        (0.15, 0.45, 0.40), 0.02, (0.45, 0.25, 0.30), (0.35, 0.55, 0.10),
        7.0, 1.5, (0.08, 0.08, 0.08, 0.10, 0.16, 0.25, 0.25),
        1.6, 0.45, 0.06, 0.03, 8.6, 0.90,
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Country:
    code: str
    share: float
    timezone: str
    utc_offset_hours: int  # standard time; good enough for planting a local time-of-day habit
    phone_code: str
    mobile_prefix: str
    currency: str
    postal_pattern: str  # d = digit, L = capital letter, anything else literal


COUNTRIES: tuple[Country, ...] = (
    Country("NL", 0.35, "Europe/Amsterdam", 1, "31", "6", "EUR", "dddd LL"),
    Country("BE", 0.15, "Europe/Brussels", 1, "32", "4", "EUR", "dddd"),
    Country("DE", 0.25, "Europe/Berlin", 1, "49", "15", "EUR", "ddddd"),
    Country("FR", 0.15, "Europe/Paris", 1, "33", "6", "EUR", "ddddd"),
    Country("GB", 0.10, "Europe/London", 0, "44", "7", "GBP", "LLd dLL"),
)
STORES_PER_COUNTRY = 5  # S01..S25, five consecutive store ids per country in COUNTRIES order

CONSENT_GRANT_PROBABILITY: tuple[float, ...] = (0.65, 0.30, 0.40, 0.20, 0.12)
DELIVERY_RATE = {"email": 0.95, "sms": 0.98, "push": 0.90}
OPEN_RATE = {"email": 0.22, "sms": 0.0, "push": 0.07}  # sms opens are not observable: always null
CLICK_RATE = {"email": 0.18, "sms": 0.04, "push": 0.15}  # email/push: given open; sms: given delivery

TREATMENT_CODES: tuple[str, ...] = ("WELCOME", "WINBACK_10", "CROSS_SELL", "LOYALTY_BONUS", "NEWSLETTER")


@dataclass(frozen=True)
class RctCampaign:
    """A randomized campaign run outside the warehouse (rows of marketing.assignments)."""

    campaign_id: str
    treatment_code: str
    position: float  # assignment date as a position in the observation window (0..1)
    channel: str  # message channel of the treated customers' message (a MESSAGE_CHANNELS name)


RCT_CAMPAIGNS: tuple[RctCampaign, ...] = (
    RctCampaign("RCT-01", "WINBACK_10", 0.45, "email"),
    RctCampaign("RCT-02", "CROSS_SELL", 0.60, "email"),
    RctCampaign("RCT-03", "LOYALTY_BONUS", 0.75, "push"),
    RctCampaign("RCT-04", "NEWSLETTER", 0.85, "email"),  # planted effect zero: the false-positive check
)
RCT_INCLUSION = 0.50  # share of first accounts existing at the assignment date that enter the experiment
RCT_TREATMENT_SHARE = 0.70
RCT_ASSIGNMENT_HOUR_UTC = 6

# --- planted causal effects ------------------------------------------------------------------
# Value tiers of the planted purchase process: buyers ranked by expected annual spend while
# alive, 365 * lambda * E[order value] = 365 * lambda * p / nu; shares of buyers, low to high.
# Non-buyers (prospects) have no tier ('none'), and no treatment changes them.
VALUE_TIERS: tuple[str, ...] = ("low", "medium", "high")
VALUE_TIER_SHARES: tuple[float, float, float] = (0.50, 0.35, 0.15)
RESPONSE_WINDOW_DAYS = 30.0  # treated customers respond within 30 days of assigned_at
RESPONSE_DELAY_DAYS = 7.0  # mean delay of an incremental purchase (exponential, cut at the window)


@dataclass(frozen=True)
class TreatmentEffect:
    """Planted intent-to-treat effect of one treatment on a customer who is alive when treated.

    In the cell (needs segment s, value tier t) a treated, alive customer makes one extra
    ("incremental") purchase in the response window with probability
    purchase * segment[s] * tier[t], and every order they place in the window is worth
    (1 + spend * segment[s] * tier[t]) times its untreated value. Customers not yet acquired
    or already dropped out at the assignment, prospects and the control group are unchanged.
    """

    purchase: float
    spend: float
    segment: tuple[float, float, float, float, float]  # SEGMENTS order
    tier: tuple[float, float, float]  # VALUE_TIERS order

    def purchase_probability(self) -> np.ndarray:
        """(segment x tier) matrix of incremental-purchase probabilities."""
        return np.clip(self.purchase * np.outer(self.segment, self.tier), 0.0, 1.0)

    def spend_change(self) -> np.ndarray:
        """(segment x tier) matrix of relative order-value changes."""
        return np.clip(self.spend * np.outer(self.segment, self.tier), -0.9, 10.0)


TREATMENT_EFFECTS: dict[str, TreatmentEffect] = {
    # A welcome offer: a small nudge for everyone (no RCT tests it; for the closed loop).
    "WELCOME": TreatmentEffect(0.05, 0.0, (1.0, 1.0, 1.0, 1.0, 1.0), (1.0, 1.0, 1.0)),
    # 10% off: strongest on bargain hunters and low-value customers, and it discounts orders
    # that would have happened anyway (negative spend change).
    "WINBACK_10": TreatmentEffect(0.14, -0.06, (1.6, 0.6, 1.0, 1.1, 0.5), (1.3, 0.9, 0.5)),
    # Recommendations: larger baskets and extra purchases for tech and style shoppers.
    "CROSS_SELL": TreatmentEffect(0.08, 0.08, (0.5, 1.6, 1.4, 0.8, 1.0), (0.6, 1.0, 1.5)),
    # Bonus points: works on the valuable customers.
    "LOYALTY_BONUS": TreatmentEffect(0.10, 0.04, (0.9, 0.8, 1.2, 1.2, 0.9), (0.4, 1.0, 1.8)),
    # The newsletter causes nothing: any measured effect is noise.
    "NEWSLETTER": TreatmentEffect(0.0, 0.0, (1.0, 1.0, 1.0, 1.0, 1.0), (1.0, 1.0, 1.0)),
}


@dataclass(frozen=True)
class LoyaltyEffect:
    """Who joins the loyalty club, when, and what membership changes.

    Joining: a registered buyer intends to join with probability
    loyalty_share * (0.5 + F(lambda)), F being the planted Gamma CDF of purchase rates, so
    frequent buyers join more often (a naive member vs non-member comparison overstates the
    club). The join date is the first purchase plus a delay (early_join_share join within
    days, the rest uniformly within late_join_days, which leaves most members months of
    history before joining); a person who has dropped out by then, or whose date falls after
    the window, does not join: about 20% of registered buyers become members.
    Effect: changed_share of members buy at rate lambda * (1 + u), u ~ U(uplift_low,
    uplift_high), from joining until they leave, drop out or the window ends (the extra
    purchases are a Poisson process at rate lambda * u, so the dropout process is untouched);
    the other members do not change at all.
    """

    early_join_share: float = 0.10
    early_join_days: float = 7.0
    late_join_days: tuple[float, float] = (90.0, 720.0)
    changed_share: float = 0.25
    uplift_low: float = 0.2
    uplift_high: float = 0.6


# --- company shapes (shapes.py) ---------------------------------------------------------------
# orders_only: buyers (registered or guest) drawn with this probability buy as anonymous walk-ins:
# none of their orders carries a customer_id or an email, and they own no account. Persons are
# drawn independently of their purchase process, so about this share of the orders is anonymous.
ANONYMOUS_BUYER_SHARE = 0.25
# experiment: shares of all orders placed by phone, taken from store orders (which have no web
# session), so phone orders never show a web purchase.
PHONE_CHANNEL_SHARES: dict[str, float] = {"phone": 0.08, "telesales": 0.03}
# experiment: the music shop's name for each planted category (one to one, so segments still hold).
MUSIC_CATEGORIES: dict[str, str] = {
    "fashion": "merch", "beauty": "accessories", "home": "vinyl", "electronics": "audio",
    "sports": "instruments", "kids": "sheet_music", "grocery": "cd", "books": "tickets",
}  # fmt: skip


@dataclass(frozen=True)
class ExternalArm:
    """One treatment arm of the outside experiment; `share` of the included customers get it."""

    treatment_code: str
    share: float
    effect: TreatmentEffect


EXTERNAL_CAMPAIGN_ID = "EXT-01"
EXTERNAL_POSITION = 0.35  # assignment day as a position in the window; its window ends before RCT-01's
EXTERNAL_INCLUSION = 0.60  # share of first accounts existing at the assignment that are randomized
EXTERNAL_ARMS: tuple[ExternalArm, ...] = (
    # A clear effect: a quarter of the live customers buy once more, and orders are 5% larger.
    ExternalArm("EXT_ARM_A", 1 / 3, TreatmentEffect(0.25, 0.05, (1.0, 1.0, 1.0, 1.0, 1.0), (1.0, 1.0, 1.0))),
    # No effect at all: any measured difference is noise.
    ExternalArm("EXT_ARM_B", 1 / 3, TreatmentEffect(0.0, 0.0, (1.0, 1.0, 1.0, 1.0, 1.0), (1.0, 1.0, 1.0))),
)  # the remaining third is the shared control group (group 'control', treatment_code null)
# multi_currency: EUR is the reporting currency; GB customers pay in GBP, and DOLLAR_BUYER_SHARE
# of the others buy from the shop's dollar store in USD. Rates are EUR per unit, one per month,
# a random walk around the base rate.
REPORTING_CURRENCY = "EUR"
CURRENCY_BASE_RATES: dict[str, float] = {"EUR": 1.0, "GBP": 1.17, "USD": 0.92}
DOLLAR_BUYER_SHARE = 0.10
RATE_MONTHLY_VOLATILITY = 0.015

RETURN_REASONS: tuple[str, ...] = ("size", "damaged", "not_as_described", "changed_mind", "late_delivery")
CASE_REASONS: tuple[str, ...] = ("delivery", "return", "product_quality", "billing", "account")
CASE_CHANNELS: tuple[str, ...] = ("phone", "email", "chat", "store")


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate and where.

    `customers` counts persons owning a shop account; guest-only buyers and anonymous-only
    visitors are added on top in the fixed proportions of `rates`.
    """

    customers: int
    seed: int
    out: Path
    faults: bool = False
    file_format: str = "parquet"
    end_date: date = date(2026, 9, 30)
    history_days: int = 1095
    quiet: bool = True
    chunk_size: int = 50_000
    workers: int = 0  # 0 = min(2, cpu count); output never depends on it
    bg_nbd: BgNbdParams = field(default_factory=BgNbdParams)
    gamma_gamma: GammaGammaParams = field(default_factory=GammaGammaParams)
    rates: Rates = field(default_factory=Rates)
    loyalty: LoyaltyEffect = field(default_factory=LoyaltyEffect)
    effects: bool = True  # plant the causal effects; False gives effect-free purchases for model fits
    shape: str = "full"  # which company's tables and vocabularies (shapes.py); full = every source

    def __post_init__(self) -> None:
        shape_of(self.shape)  # fails on an unknown name, listing the known ones
        if self.customers < 1:
            raise ValueError("customers must be at least 1")
        if self.file_format not in ("parquet", "csv"):
            raise ValueError("file_format must be parquet or csv")
        if self.history_days < 30:
            raise ValueError("history_days must be at least 30")
        if self.chunk_size < 1_000:
            raise ValueError("chunk_size must be at least 1000")
        object.__setattr__(self, "out", Path(self.out))

    @property
    def guest_buyers(self) -> int:
        return round(self.customers * self.rates.guest_share)

    @property
    def anonymous_visitors(self) -> int:
        return round(self.customers * self.rates.anonymous_share)

    @property
    def total_persons(self) -> int:
        return self.customers + self.guest_buyers + self.anonymous_visitors

    @property
    def n_products(self) -> int:
        return min(5000, 400 + self.customers // 1000)
