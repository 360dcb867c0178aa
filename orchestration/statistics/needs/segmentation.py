"""Fit the needs segments, choose how many there are, and keep their ids stable across refits.

The dbt Python model models/marts/needs/needs_segment_fit_history.py is a thin shell around
`fit_run`. The logic lives here, importable, so pytest holds the k selection, the label
matching and the names to their contracts without running dbt.

Scaling: every feature is z-scored with the mean and the sample standard deviation (ddof=1)
of the fitting sample; a missing value, and any value of a feature without spread, becomes 0
(the sample mean). customer_needs.sql applies the same formula in SQL with the stored means and
standard deviations, so the warehouse assigns customers in exactly the space the fit used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

STATUS_NEW = "new"
STATUS_MATCHED = "matched"
STATUS_VANISHED = "vanished"
STATUS_CARRIED_FORWARD = "carried_forward"

CATEGORY_PREFIX = "category_share_"
HOUR_SIN = "activity_hour_sin"
HOUR_COS = "activity_hour_cos"
# Catch-all buckets of a vocabulary (categories outside the top ones, lines without one): they
# describe nothing a persona could be named after.
CATCH_ALL_VALUES = frozenset({"other", "unknown"})
# A feature whose sample standard deviation is at most this has no spread (e.g. the hour of day
# when every timestamp is midnight, a category column that is zero for everyone).
NO_SPREAD = 1e-9

# One row per run x segment x feature; the SQL types are applied by the dbt model so an empty
# run still writes a table of the right shape.
HISTORY_SCHEMA: dict[str, str] = {
    "as_of_date": "date",
    "segment_id": "integer",
    "feature_name": "varchar",
    "segment_status": "varchar",
    "generated_name": "varchar",
    "previous_as_of_date": "date",
    "match_distance": "double",
    "sample_customers": "integer",
    "sample_share": "double",
    "segments_count": "integer",
    "k_selection_method": "varchar",
    "prediction_strength": "double",
    "prediction_strength_by_k": "varchar",
    "sample_size": "integer",
    "feature_mean": "double",
    "feature_sd": "double",
    "center_scaled": "double",
    "center_value": "double",
}

# Readable traits for persona names: (phrase when the segment is above average, phrase when
# below). None means the direction says nothing worth naming.
TRAIT_PHRASES: dict[str, tuple[str | None, str | None]] = {
    "discount_share": ("deal seekers", "full-price buyers"),
    "price_level_index": ("premium buyers", "budget buyers"),
    "weekend_activity_share": ("weekend shoppers", "weekday shoppers"),
    "sessions_per_order": ("browsers", "quick deciders"),
    "searches_per_session": ("searchers", None),
    "return_rate": ("returners", None),
    "service_cases_per_order": ("service seekers", None),
    "latest_nps_score": ("promoters", "critics"),
    "message_open_rate": ("newsletter readers", None),
}
PREFIX_PHRASES: dict[str, str] = {
    "channel_share_": "{} shoppers",
    "device_share_": "{} users",
}
# Periods of the (UTC) day a segment is typically active in, by starting hour.
DAY_PERIODS: tuple[tuple[float, str], ...] = (
    (0.0, "night"),
    (5.0, "early morning"),
    (8.0, "morning"),
    (11.0, "midday"),
    (14.0, "afternoon"),
    (17.0, "evening"),
    (21.0, "late evening"),
)


@dataclass(frozen=True)
class FitSettings:
    """How a run fits; every field comes from a dbt var (dbt_project.yml, needs block)."""

    k_min: int = 2
    k_max: int = 8
    fixed_k: int | None = None
    prediction_strength_threshold: float = 0.8
    prediction_strength_splits: int = 3
    random_state: int = 42
    n_init: int = 10
    match_max_distance: float = 1.5
    min_fit_customers: int = 50

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> FitSettings:
        """Settings from dbt config values (numbers, or text such as "None"); missing keys keep defaults."""

        def number(key: str, kind: type) -> object:
            raw = values.get(key)
            if raw is None or str(raw).strip().lower() in ("", "none", "null"):
                return None
            return kind(float(raw)) if kind is int else kind(raw)

        parsed: dict[str, object] = {}
        for key, kind in (
            ("k_min", int),
            ("k_max", int),
            ("fixed_k", int),
            ("prediction_strength_threshold", float),
            ("prediction_strength_splits", int),
            ("random_state", int),
            ("n_init", int),
            ("match_max_distance", float),
            ("min_fit_customers", int),
        ):
            value = number(key, kind)
            if value is not None or key == "fixed_k":
                parsed[key] = value
        settings = cls(**parsed)
        if settings.k_min < 2 or settings.k_max < settings.k_min:
            raise ValueError(f"needs k range must satisfy 2 <= k_min <= k_max, got {settings}")
        if settings.fixed_k is not None and settings.fixed_k < 1:
            raise ValueError("needs_k must be a positive number of segments or null")
        return settings


@dataclass(frozen=True)
class Scaling:
    """Per-feature mean and standard deviation of the fitting sample."""

    means: pd.Series
    sds: pd.Series

    @classmethod
    def fit(cls, features: pd.DataFrame) -> Scaling:
        numeric = features.astype("float64")
        return cls(means=numeric.mean(), sds=numeric.std(ddof=1))

    def transform(self, features: pd.DataFrame) -> pd.DataFrame:
        """z-scores; missing values and features without spread become 0, as in customer_needs.sql."""
        columns = [c for c in self.means.index if c in features.columns]
        spread = self.sds[columns].where(self.sds[columns] > 0)
        scaled = (features[columns].astype("float64") - self.means[columns]) / spread
        return scaled.fillna(0.0)

    def inverse(self, scaled: pd.DataFrame) -> pd.DataFrame:
        """Raw units of scaled points (a feature without spread maps back to its mean)."""
        columns = list(scaled.columns)
        return scaled * self.sds[columns].fillna(0.0) + self.means[columns]


@dataclass(frozen=True)
class KChoice:
    """The number of segments and why."""

    k: int
    method: str  # 'fixed' or 'prediction_strength'
    strengths: dict[int, float]


@dataclass(frozen=True)
class SegmentLabel:
    """The id a current cluster (or a vanished previous segment) gets."""

    segment_id: int
    status: str
    name: str
    cluster: int | None  # row of the current fit; None for a vanished segment
    match_distance: float | None


def _kmeans(k: int, settings: FitSettings) -> KMeans:
    return KMeans(n_clusters=k, n_init=settings.n_init, random_state=settings.random_state)


def prediction_strength(points: np.ndarray, k: int, split: int, settings: FitSettings) -> float:
    """Prediction strength of k clusters (Tibshirani and Walther 2005) on one random halving.

    Both halves are clustered; the test half's clusters are checked against the centroids
    fitted on the training half: for each test cluster, the share of its member pairs that the
    training centroids also put together. The weakest cluster's share is the strength, so
    one spurious split of a real group (k too large) drags it down sharply.
    """
    rng = np.random.default_rng(settings.random_state + split)
    order = rng.permutation(len(points))
    half = len(points) // 2
    train, test = points[order[:half]], points[order[half:]]
    predicted = _kmeans(k, settings).fit(train).predict(test)
    test_labels = _kmeans(k, settings).fit(test).labels_
    shares = []
    for cluster in range(k):
        members = predicted[test_labels == cluster]
        n = len(members)
        if n < 2:  # a pair share is undefined for a singleton
            continue
        together = np.bincount(members).astype("float64")
        shares.append(float((together * (together - 1)).sum()) / (n * (n - 1)))
    return min(shares) if shares else 0.0


def choose_k(points: np.ndarray, settings: FitSettings) -> KChoice:
    """The largest k in [k_min, k_max] whose mean prediction strength reaches the threshold.

    Tibshirani and Walther's rule (threshold 0.8): beyond the true number of groups some real
    group is cut in two at random and the strength collapses, while up to it the strength
    stays high. Without any k passing, k_min. A fixed k (var needs_k) skips the search.
    """
    if settings.fixed_k is not None:
        return KChoice(k=min(settings.fixed_k, len(points)), method="fixed", strengths={})
    # Each half must hold a few points per cluster for the pair shares to mean anything.
    k_max = min(settings.k_max, len(points) // 8)
    strengths: dict[int, float] = {}
    for k in range(settings.k_min, k_max + 1):
        runs = [
            prediction_strength(points, k, split, settings)
            for split in range(settings.prediction_strength_splits)
        ]
        strengths[k] = float(np.mean(runs))
    passing = [k for k, strength in strengths.items() if strength >= settings.prediction_strength_threshold]
    return KChoice(
        k=max(passing) if passing else settings.k_min, method="prediction_strength", strengths=strengths
    )


def fit_segments(points: np.ndarray, k: int, settings: FitSettings) -> tuple[np.ndarray, np.ndarray]:
    """k-means centroids (scaled space) and the label of every sample point."""
    model = _kmeans(k, settings).fit(points)
    return model.cluster_centers_, model.labels_


def match_clusters(
    previous: np.ndarray, current: np.ndarray, max_distance: float
) -> list[tuple[int, int, float]]:
    """Optimal one-to-one pairs (previous row, current row, distance) no farther than max_distance.

    Pairs beyond max_distance cost more than any valid set of pairs, so the Hungarian solution
    first makes as many valid matches as possible and then minimises their total distance;
    pairs it still had to make beyond the limit are dropped (those clusters are new/vanished).
    """
    if len(previous) == 0 or len(current) == 0:
        return []
    distances = cdist(previous, current)
    penalty = (distances.max() + 1.0) * (len(previous) + len(current))
    cost = np.where(distances <= max_distance, distances, penalty)
    rows, cols = linear_sum_assignment(cost)
    return [
        (int(r), int(c), float(distances[r, c]))
        for r, c in zip(rows, cols, strict=True)
        if distances[r, c] <= max_distance
    ]


def hour_of_day(hour_sin: float, hour_cos: float) -> float | None:
    """The hour (0-24) whose angle the mean sine and cosine point to; None without a direction."""
    if hour_sin is None or hour_cos is None or (math.isnan(hour_sin) or math.isnan(hour_cos)):
        return None
    if math.hypot(hour_sin, hour_cos) < 1e-9:
        return None
    return (math.atan2(hour_sin, hour_cos) * 24.0 / (2.0 * math.pi)) % 24.0


def day_period(hour: float | None) -> str | None:
    if hour is None:
        return None
    return [name for start, name in DAY_PERIODS if hour >= start][-1]


def _has_spread(feature: str, spread: pd.Series | None) -> bool:
    """Whether the feature varies in the fitting sample (unknown spread counts as yes)."""
    if spread is None or feature not in spread.index:
        return True
    value = spread[feature]
    return not pd.isna(value) and float(value) > NO_SPREAD


def has_time_of_day(spread: pd.Series | None) -> bool:
    """Whether the timestamps carry a time of day: the hour features vary in the fitting sample.

    Date-only timestamps (every order at 00:00) put every customer at the same hour, sine 0 and
    cosine 1: the centroids then point at midnight ('night') for a reason that is not a habit.
    """
    return _has_spread(HOUR_SIN, spread) or _has_spread(HOUR_COS, spread)


def naming_categories(
    center_z: pd.Series, center_raw: pd.Series, spread: pd.Series | None = None
) -> dict[str, float]:
    """Category columns that may name a persona, with the centroid's z-score.

    Only categories the data really has: the segment's share is above zero, the column varies
    in the fitting sample (a column that is zero for everyone, as for a category the shop does
    not sell, has no spread) and it is not a catch-all bucket ('other', 'unknown').
    """
    usable = {}
    for feature, z in center_z.items():
        if not feature.startswith(CATEGORY_PREFIX) or pd.isna(z):
            continue
        if feature[len(CATEGORY_PREFIX) :] in CATCH_ALL_VALUES or not _has_spread(feature, spread):
            continue
        share = center_raw.get(feature, math.nan)
        if share is None or pd.isna(share) or float(share) <= 0:
            continue
        usable[feature] = float(z)
    return usable


def _traits(center_z: pd.Series, spread: pd.Series | None = None) -> list[str]:
    """Readable traits of a centroid, the most distinctive first (features without spread say nothing)."""
    scored: list[tuple[float, str]] = []
    for feature, z in center_z.items():
        if feature.startswith(CATEGORY_PREFIX) or feature in (HOUR_SIN, HOUR_COS) or pd.isna(z):
            continue
        if abs(float(z)) <= NO_SPREAD or not _has_spread(feature, spread):
            continue
        if feature in TRAIT_PHRASES:
            high, low = TRAIT_PHRASES[feature]
            phrase = high if z > 0 else low
        else:
            prefix = next((p for p in PREFIX_PHRASES if feature.startswith(p)), None)
            value = feature[len(prefix) :] if prefix else None
            phrase = (
                PREFIX_PHRASES[prefix].format(value)
                if prefix and z > 0 and value not in CATCH_ALL_VALUES
                else None
            )
        if phrase:
            scored.append((abs(float(z)), phrase))
    return [phrase for _, phrase in sorted(scored, key=lambda item: (-item[0], item[1]))]


def generate_name(
    center_z: pd.Series,
    center_raw: pd.Series,
    taken: set[str] | frozenset[str] = frozenset(),
    spread: pd.Series | None = None,
) -> str:
    """A persona name from a centroid: lead category, strongest other trait, time of day.

    E.g. 'Vinyl deal seekers, evening'. Only what the data shows names a persona: the lead
    category is the most above-average of `naming_categories` ('Mixed' when the segment is above
    average in none of them; no category word when the data has none that varies), and the time
    of day is left out when the timestamps carry none (`has_time_of_day`). `spread` is the
    fitting sample's standard deviation per feature (Scaling.sds); without it every feature
    counts as varying. Names already taken get the next trait, then a number, so two active
    segments never share a name. A seed (needs_personas) overrides it.
    """
    categories = naming_categories(center_z, center_raw, spread)
    leads = {f: z for f, z in categories.items() if z > 0}
    lead = max(sorted(leads), key=lambda f: leads[f]) if leads else None
    if lead:
        category = lead[len(CATEGORY_PREFIX) :].replace("_", " ").capitalize()
    else:
        category = "Mixed" if categories else None
    period = (
        day_period(hour_of_day(center_raw.get(HOUR_SIN, math.nan), center_raw.get(HOUR_COS, math.nan)))
        if has_time_of_day(spread)
        else None
    )
    suffix = f", {period}" if period else ""
    traits = _traits(center_z, spread)
    if category:
        candidates = [f"{category} {trait}{suffix}" for trait in traits] or [f"{category} buyers{suffix}"]
    else:
        candidates = [f"{trait.capitalize()}{suffix}" for trait in traits] or [f"Buyers{suffix}"]
    for candidate in candidates:
        if candidate not in taken:
            return candidate
    number = 2
    while f"{candidates[0]} {number}" in taken:
        number += 1
    return f"{candidates[0]} {number}"


def label_segments(
    current_raw: pd.DataFrame,
    sizes: Sequence[int],
    scaling: Scaling,
    previous_raw: pd.DataFrame,
    previous_names: Mapping[int, str],
    next_segment_id: int,
    max_distance: float,
) -> list[SegmentLabel]:
    """Give each current cluster a segment id: the matched previous segment's, or a new one.

    `current_raw` has one row per current cluster (0..k-1) and `previous_raw` one row per
    active segment of the previous run (index segment_id), both in raw feature units. They
    are compared in the current run's scaled space on the features both runs have. Matched
    clusters keep the previous id and name; the others get new ids from `next_segment_id`
    (largest cluster first) and a generated name; unmatched previous segments are reported
    as vanished. Ids are never reused.
    """
    common = [f for f in current_raw.columns if f in previous_raw.columns]
    current_z = scaling.transform(current_raw[common]) if common else pd.DataFrame(index=current_raw.index)
    previous_z = scaling.transform(previous_raw[common]) if common else pd.DataFrame(index=previous_raw.index)
    pairs = (
        match_clusters(previous_z.to_numpy(), current_z.to_numpy(), max_distance)
        if common and len(previous_raw)
        else []
    )
    matched = {cluster: (int(previous_raw.index[row]), distance) for row, cluster, distance in pairs}

    labels: list[SegmentLabel] = []
    taken: set[str] = set()
    for cluster, (segment_id, distance) in sorted(matched.items()):
        name = previous_names.get(segment_id) or f"Segment {segment_id}"
        taken.add(name)
        labels.append(SegmentLabel(segment_id, STATUS_MATCHED, name, cluster, distance))

    all_z = scaling.transform(current_raw)
    unmatched = sorted((c for c in range(len(current_raw)) if c not in matched), key=lambda c: (-sizes[c], c))
    for offset, cluster in enumerate(unmatched):
        name = generate_name(all_z.iloc[cluster], current_raw.iloc[cluster], taken, scaling.sds)
        taken.add(name)
        labels.append(SegmentLabel(next_segment_id + offset, STATUS_NEW, name, cluster, None))

    kept = {segment_id for segment_id, _ in matched.values()}
    for segment_id in previous_raw.index:
        if int(segment_id) not in kept:
            name = previous_names.get(int(segment_id)) or f"Segment {segment_id}"
            labels.append(SegmentLabel(int(segment_id), STATUS_VANISHED, name, None, None))
    return sorted(labels, key=lambda label: label.segment_id)


PANDAS_TYPES = {"date": "datetime64[ns]", "integer": "Int64", "double": "Float64", "varchar": "string"}


def typed_history(history: pd.DataFrame) -> pd.DataFrame:
    """The history columns in order, as nullable pandas types, so missing values load as NULL."""
    typed = {}
    for column, sql_type in HISTORY_SCHEMA.items():
        values = history[column] if column in history else pd.Series([None] * len(history), dtype="object")
        if sql_type == "date":
            typed[column] = pd.to_datetime(values).astype(PANDAS_TYPES[sql_type])
        else:
            typed[column] = pd.array(
                values.astype("object").where(values.notna(), None), dtype=PANDAS_TYPES[sql_type]
            )
    return pd.DataFrame(typed)


# Columns of int_needs__fitting_sample that are not features.
NON_FEATURE_COLUMNS = ("customer_key", "as_of_date", "fitting_sample_rank")


def feature_columns(columns: Sequence[str]) -> list[str]:
    """The fitting sample's feature columns, in their order."""
    return [column for column in columns if column not in NON_FEATURE_COLUMNS]


def previous_run(query: Callable[[str], pd.DataFrame], history: str, as_of: date) -> tuple[pd.DataFrame, int]:
    """The history table's latest run before `as_of`, and the next unused segment id.

    query runs SQL on the warehouse (the dbt Python model passes its session). Ids are never
    reused, not even those of segments that vanished long ago; rows of `as_of` itself are being
    replaced and do not count.
    """
    as_of_sql = f"cast('{as_of}' as date)"
    previous = query(
        f"select * from {history} where as_of_date = "
        f"(select max(as_of_date) from {history} where as_of_date < {as_of_sql})"
    )
    used = query(f"select max(segment_id) as used from {history} where as_of_date <> {as_of_sql}")["used"]
    return previous, 1 if used.empty or pd.isna(used.iloc[0]) else int(used.iloc[0]) + 1


def history_projection() -> str:
    """A DuckDB projection that gives the fitted rows the history table's column types."""
    return ", ".join(
        f"cast({column} as {sql_type}) as {column}" for column, sql_type in HISTORY_SCHEMA.items()
    )


def _empty_history() -> pd.DataFrame:
    return typed_history(pd.DataFrame({column: [] for column in HISTORY_SCHEMA}))


def _previous_run(previous: pd.DataFrame | None) -> pd.DataFrame:
    """The active segments' rows of the previous run (vanished ones were recorded already)."""
    if previous is None or previous.empty:
        return _empty_history()
    return previous[previous["segment_status"] != STATUS_VANISHED]


def _carried_rows(active: pd.DataFrame, as_of: date, status: str) -> pd.DataFrame:
    carried = active.copy()
    carried["previous_as_of_date"] = carried["as_of_date"]
    carried["as_of_date"] = as_of
    carried["segment_status"] = status
    carried["match_distance"] = None if status == STATUS_VANISHED else 0.0
    if status == STATUS_VANISHED:
        carried["sample_customers"] = None
        carried["sample_share"] = None
    return carried


def fit_run(
    sample: pd.DataFrame,
    feature_names: Sequence[str],
    as_of: date,
    previous: pd.DataFrame | None,
    next_segment_id: int,
    settings: FitSettings,
) -> pd.DataFrame:
    """This run's rows of needs_segment_fit_history: one per segment x feature.

    `sample` holds the fitting sample (one row per customer, in a deterministic order) with
    the feature columns; `previous` the history rows of the latest earlier run, or None. With
    fewer than settings.min_fit_customers customers nothing is refitted: the previous
    segments are carried forward unchanged (or nothing is written before the first fit).
    """
    active = _previous_run(previous)
    if len(sample) < settings.min_fit_customers:
        if active.empty:
            return _empty_history()
        return typed_history(_carried_rows(active, as_of, STATUS_CARRIED_FORWARD))

    features = sample[list(feature_names)].astype("float64")
    scaling = Scaling.fit(features)
    points = scaling.transform(features).to_numpy()
    # One thread: k-means on a sample is small work, and OpenMP threads spinning against the
    # other dbt threads on a busy machine made the fit 10x slower, not faster.
    with threadpool_limits(limits=1):
        choice = choose_k(points, settings)
        centers_z, labels = fit_segments(points, choice.k, settings)
    sizes = np.bincount(labels, minlength=choice.k)
    centers_z_frame = pd.DataFrame(centers_z, columns=list(feature_names))
    current_raw = scaling.inverse(centers_z_frame)

    previous_raw = (
        active.pivot_table(index="segment_id", columns="feature_name", values="center_value", aggfunc="first")
        if not active.empty
        else pd.DataFrame()
    )
    previous_names = (
        active.drop_duplicates("segment_id").set_index("segment_id")["generated_name"].to_dict()
        if not active.empty
        else {}
    )
    previous_as_of = active["as_of_date"].iloc[0] if not active.empty else None
    segment_labels = label_segments(
        current_raw,
        sizes,
        scaling,
        previous_raw,
        previous_names,
        next_segment_id,
        settings.match_max_distance,
    )

    run_columns = {
        "segments_count": choice.k,
        "k_selection_method": choice.method,
        "prediction_strength": choice.strengths.get(choice.k),
        "prediction_strength_by_k": " ".join(f"{k}:{s:.3f}" for k, s in choice.strengths.items()),
        "sample_size": len(sample),
    }
    frames = []
    for label in segment_labels:
        if label.cluster is None:
            vanished = _carried_rows(active[active["segment_id"] == label.segment_id], as_of, STATUS_VANISHED)
            frames.append(vanished.assign(**run_columns))
            continue
        frames.append(
            pd.DataFrame(
                {
                    "as_of_date": as_of,
                    "segment_id": label.segment_id,
                    "feature_name": list(feature_names),
                    "segment_status": label.status,
                    "generated_name": label.name,
                    "previous_as_of_date": previous_as_of if label.status == STATUS_MATCHED else None,
                    "match_distance": label.match_distance,
                    "sample_customers": int(sizes[label.cluster]),
                    "sample_share": float(sizes[label.cluster]) / len(sample),
                    **run_columns,
                    "feature_mean": scaling.means[list(feature_names)].to_numpy(),
                    "feature_sd": scaling.sds[list(feature_names)].to_numpy(),
                    "center_scaled": centers_z_frame.iloc[label.cluster].to_numpy(),
                    "center_value": current_raw.iloc[label.cluster].to_numpy(),
                }
            )
        )
    return typed_history(pd.concat(frames, ignore_index=True))
