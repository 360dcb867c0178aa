"""The Python half of the needs mart (orchestration/statistics/needs/segmentation.py), without dbt:
scaling as customer_needs.sql applies it, the choice of k, the matching of refitted
clusters to the previous run's segments (ids kept, new ids, vanished ones), and names.

Fixtures use neutral category names (vinyl, tea, ...), never the sample generator's: personas
must be named from what the data shows, whatever a shop sells.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.statistics.needs.segmentation import (
    STATUS_MATCHED,
    STATUS_NEW,
    STATUS_VANISHED,
    FitSettings,
    Scaling,
    choose_k,
    feature_columns,
    fit_run,
    generate_name,
    has_time_of_day,
    history_projection,
    hour_of_day,
    label_segments,
    match_clusters,
    naming_categories,
    previous_run,
)

FEATURES = ["category_share_vinyl", "category_share_tea", "discount_share"]
# Well separated groups in raw units (vinyl share, tea share, discount share).
BLOB_CENTERS = {
    "vinyl": (0.7, 0.1, 0.25),
    "tea": (0.1, 0.7, 0.05),
    "both": (0.4, 0.4, 0.15),
    "deal": (0.1, 0.1, 0.45),
}


def _blobs(names: list[str], per_blob: int = 80, seed: int = 0, noise: float = 0.03) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for name in names:
        points = np.asarray(BLOB_CENTERS[name]) + rng.normal(0.0, noise, (per_blob, len(FEATURES)))
        frames.append(pd.DataFrame(points, columns=FEATURES).assign(blob=name))
    return pd.concat(frames, ignore_index=True)


def test_scaling_matches_the_sql_formula() -> None:
    sample = pd.DataFrame({"a": [1.0, 3.0, np.nan], "b": [2.0, 2.0, 2.0]})
    scaling = Scaling.fit(sample)
    assert scaling.means["a"] == 2.0
    assert scaling.sds["a"] == pytest.approx(np.sqrt(2.0))  # sample sd, as stddev_samp
    scaled = scaling.transform(pd.DataFrame({"a": [2.0 + np.sqrt(2.0), np.nan], "b": [5.0, 2.0]}))
    # A missing value and a feature without spread both count as the mean: z = 0.
    assert scaled["a"].tolist() == pytest.approx([1.0, 0.0])
    assert scaled["b"].tolist() == [0.0, 0.0]
    assert scaling.inverse(pd.DataFrame({"a": [1.0], "b": [0.0]})).iloc[0].tolist() == pytest.approx(
        [2.0 + np.sqrt(2.0), 2.0]
    )


def test_match_clusters_finds_the_permutation_and_drops_far_pairs() -> None:
    previous = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    current = np.array([[0.0, 5.1], [9.0, 9.0], [0.1, 0.0]])
    pairs = match_clusters(previous, current, max_distance=1.0)
    assert sorted((r, c) for r, c, _ in pairs) == [(0, 2), (2, 0)]
    assert all(d <= 1.0 for _, _, d in pairs)


def test_match_clusters_prefers_more_valid_matches_over_a_smaller_sum() -> None:
    # Pairing previous 0 with current 0 (distance 0.1) would leave previous 1 only the far
    # current 1; the optimum within the limit pairs 0-1 and 1-0 (both 0.9).
    previous = np.array([[0.0], [1.0]])
    current = np.array([[0.1], [-0.9]])
    pairs = match_clusters(previous, current, max_distance=1.0)
    assert sorted((r, c) for r, c, _ in pairs) == [(0, 1), (1, 0)]


def test_label_segments_keeps_ids_numbers_new_ones_and_records_vanished() -> None:
    scaling = Scaling(means=pd.Series({"x": 0.0, "y": 0.0}), sds=pd.Series({"x": 1.0, "y": 1.0}))
    previous = pd.DataFrame({"x": [0.0, 5.0, 10.0], "y": [0.0, 0.0, 0.0]}, index=[3, 4, 6])
    names = {3: "Three", 4: "Four", 6: "Six"}
    # Cluster 0 is segment 4 moved slightly, cluster 2 is segment 3; clusters 1 and 3 are new
    # (3 larger than 1); segment 6 has no counterpart.
    current = pd.DataFrame({"x": [5.2, -8.0, 0.1, 0.0], "y": [0.0, 0.0, 0.0, 9.0]})
    labels = label_segments(current, [50, 10, 40, 30], scaling, previous, names, 7, max_distance=1.0)
    by_id = {label.segment_id: label for label in labels}
    assert by_id[4].cluster == 0 and by_id[4].status == STATUS_MATCHED and by_id[4].name == "Four"
    assert by_id[4].match_distance == pytest.approx(0.2)
    assert by_id[3].cluster == 2 and by_id[3].status == STATUS_MATCHED and by_id[3].name == "Three"
    assert (by_id[7].cluster, by_id[7].status) == (3, STATUS_NEW)  # larger new cluster first
    assert (by_id[8].cluster, by_id[8].status) == (1, STATUS_NEW)
    assert (by_id[6].cluster, by_id[6].status, by_id[6].name) == (None, STATUS_VANISHED, "Six")
    assert sorted(by_id) == [3, 4, 6, 7, 8]


def test_choose_k_finds_the_planted_number_of_groups() -> None:
    points = Scaling.fit(_blobs(list(BLOB_CENTERS))[FEATURES])
    sample = _blobs(list(BLOB_CENTERS))
    scaled = points.transform(sample[FEATURES]).to_numpy()
    choice = choose_k(scaled, FitSettings(k_min=2, k_max=7, n_init=4))
    print(f"prediction strength by k: {choice.strengths}")
    assert choice.k == 4
    assert choice.method == "prediction_strength"
    assert choice.strengths[5] < 0.8 <= choice.strengths[4]
    fixed = choose_k(scaled, FitSettings(fixed_k=3))
    assert (fixed.k, fixed.method) == (3, "fixed")


def test_generated_names_read_the_centroid_and_stay_unique() -> None:
    center_z = pd.Series(
        {"category_share_vinyl": 1.1, "category_share_tea": -0.2, "discount_share": 1.2, "return_rate": -0.3}
    )
    center_raw = pd.Series(
        {
            "category_share_vinyl": 0.6,
            "category_share_tea": 0.1,
            "activity_hour_sin": np.sin(2 * np.pi * 19 / 24),
            "activity_hour_cos": np.cos(2 * np.pi * 19 / 24),
        }
    )
    assert hour_of_day(center_raw["activity_hour_sin"], center_raw["activity_hour_cos"]) == pytest.approx(
        19.0
    )
    name = generate_name(center_z, center_raw)
    assert name == "Vinyl deal seekers, evening"
    assert generate_name(center_z, center_raw, taken={name}) != name


# A music and tea shop as the fit sees it: spread per feature in the fitting sample. cups is a
# category column the shop never sells (zero for everyone), other the catch-all bucket.
SHOP_SPREAD = pd.Series(
    {
        "category_share_vinyl": 0.3,
        "category_share_tea": 0.25,
        "category_share_cups": 0.0,
        "category_share_other": 0.2,
        "discount_share": 0.1,
        "latest_nps_score": np.nan,  # no surveys: null for everyone
        "activity_hour_sin": 0.4,
        "activity_hour_cos": 0.5,
    }
)


def test_persona_names_use_only_categories_the_data_has() -> None:
    # The segment is below average in vinyl and tea and buys mostly 'other'; cups is all zero.
    center_z = pd.Series(
        {
            "category_share_vinyl": -0.4,
            "category_share_tea": -0.6,
            "category_share_cups": 0.0,
            "category_share_other": 1.8,
            "discount_share": 0.9,
            "latest_nps_score": 0.0,
        }
    )
    center_raw = pd.Series(
        {
            "category_share_vinyl": 0.2,
            "category_share_tea": 0.1,
            "category_share_cups": 0.0,
            "category_share_other": 0.7,
            "activity_hour_sin": -1.0,
            "activity_hour_cos": 0.0,
        }
    )
    assert naming_categories(center_z, center_raw, SHOP_SPREAD) == {
        "category_share_vinyl": -0.4,
        "category_share_tea": -0.6,
    }
    name = generate_name(center_z, center_raw, spread=SHOP_SPREAD)
    print(name)
    # No real category above average: 'Mixed', never the zero column or the catch-all bucket, and
    # no trait from a feature nobody has (NPS without surveys).
    assert name == "Mixed deal seekers, evening"
    # Above average in tea: named after tea.
    tea_z = center_z.copy()
    tea_z["category_share_tea"] = 1.2
    assert generate_name(tea_z, center_raw, spread=SHOP_SPREAD) == "Tea deal seekers, evening"
    # A category column with spread but no share in this segment cannot name it.
    no_tea_raw = center_raw.copy()
    no_tea_raw["category_share_tea"] = 0.0
    assert "Tea" not in generate_name(tea_z, no_tea_raw, spread=SHOP_SPREAD)
    # A one-category shop (the column does not vary): no category word at all.
    one_category = pd.Series({"category_share_vinyl": 0.0, "discount_share": 0.1})
    assert (
        generate_name(
            pd.Series({"category_share_vinyl": 0.0, "discount_share": -1.0}),
            pd.Series({"category_share_vinyl": 1.0}),
            spread=one_category,
        )
        == "Full-price buyers"
    )


def test_time_of_day_words_only_when_timestamps_carry_a_time() -> None:
    # Date-only timestamps: every order at 00:00, so every customer has sine 0 and cosine 1.
    date_only = SHOP_SPREAD.copy()
    date_only["activity_hour_sin"] = 0.0
    date_only["activity_hour_cos"] = 0.0
    assert not has_time_of_day(date_only)
    assert has_time_of_day(SHOP_SPREAD)
    assert has_time_of_day(None)  # unknown spread: trust the timestamps
    center_z = pd.Series({"category_share_vinyl": 1.0, "discount_share": 0.8})
    center_raw = pd.Series({"category_share_vinyl": 0.8, "activity_hour_sin": 0.0, "activity_hour_cos": 1.0})
    assert generate_name(center_z, center_raw, spread=date_only) == "Vinyl deal seekers"
    assert generate_name(center_z, center_raw, spread=SHOP_SPREAD) == "Vinyl deal seekers, night"


def test_fit_run_names_date_only_segments_without_time_or_absent_categories() -> None:
    """A whole fit on date-only data with a category column that is zero for everyone."""
    sample = _blobs(["vinyl", "tea", "deal"], seed=4)
    sample["category_share_cups"] = 0.0
    sample["category_share_other"] = 1.0 - sample["category_share_vinyl"] - sample["category_share_tea"]
    sample["activity_hour_sin"] = 0.0
    sample["activity_hour_cos"] = 1.0
    features = [
        *FEATURES,
        "category_share_cups",
        "category_share_other",
        "activity_hour_sin",
        "activity_hour_cos",
    ]
    settings = FitSettings(k_min=2, k_max=5, n_init=4, min_fit_customers=20)
    run = fit_run(sample, features, date(2026, 1, 1), None, 1, settings)
    names = sorted(run.drop_duplicates("segment_id").generated_name)
    print(names)
    assert len(names) == 3
    for name in names:
        assert "," not in name, name  # no time of day
        assert "Cups" not in name and "Other" not in name, name
    assert any(name.startswith("Vinyl") for name in names)
    assert any(name.startswith("Tea") for name in names)


def test_fit_run_keeps_ids_on_refit_and_records_new_and_vanished_segments() -> None:
    settings = FitSettings(k_min=2, k_max=6, n_init=4, match_max_distance=1.0, min_fit_customers=20)
    first = fit_run(_blobs(["vinyl", "tea", "deal"], seed=1), FEATURES, date(2026, 1, 1), None, 1, settings)
    assert set(first.segment_status) == {STATUS_NEW}
    assert sorted(first.segment_id.unique()) == [1, 2, 3]
    assert len(first) == 3 * len(FEATURES)
    blob_of = {  # which planted group each first-run id is (by its centroid)
        int(row.segment_id): min(BLOB_CENTERS, key=lambda b: abs(BLOB_CENTERS[b][2] - row.center_value))
        for row in first[first.feature_name == "discount_share"].itertuples()
    }

    # The next day: new noise, same groups -> same ids, all matched.
    second = fit_run(_blobs(["vinyl", "tea", "deal"], seed=2), FEATURES, date(2026, 1, 2), first, 4, settings)
    assert set(second.segment_status) == {STATUS_MATCHED}
    assert sorted(second.segment_id.unique()) == [1, 2, 3]
    assert set(second.previous_as_of_date.dt.date) == {date(2026, 1, 1)}

    # 'deal' disappears and 'both' appears: 'deal' keeps its id as vanished, 'both' gets id 4.
    third = fit_run(_blobs(["vinyl", "tea", "both"], seed=3), FEATURES, date(2026, 1, 3), second, 4, settings)
    status = third.drop_duplicates("segment_id").set_index("segment_id")["segment_status"].to_dict()
    deal_id = next(i for i, b in blob_of.items() if b == "deal")
    assert status[deal_id] == STATUS_VANISHED
    assert status[4] == STATUS_NEW
    assert sum(s == STATUS_MATCHED for s in status.values()) == 2


def test_fit_run_carries_segments_forward_when_the_sample_is_too_small() -> None:
    settings = FitSettings(n_init=2, min_fit_customers=50)
    first = fit_run(_blobs(["vinyl", "tea"], per_blob=40), FEATURES, date(2026, 1, 1), None, 1, settings)
    carried = fit_run(_blobs(["vinyl"], per_blob=10), FEATURES, date(2026, 1, 2), first, 3, settings)
    assert set(carried.segment_status) == {"carried_forward"}
    assert sorted(carried.segment_id.unique()) == sorted(first.segment_id.unique())
    empty = fit_run(_blobs(["vinyl"], per_blob=10), FEATURES, date(2026, 1, 2), None, 1, settings)
    assert empty.empty
    assert list(empty.columns) == list(first.columns)


def test_settings_parse_rendered_config_values() -> None:
    settings = FitSettings.from_mapping(
        {"k_min": "3", "k_max": 6, "fixed_k": "None", "match_max_distance": "2.5"}
    )
    assert (settings.k_min, settings.k_max, settings.fixed_k, settings.match_max_distance) == (
        3,
        6,
        None,
        2.5,
    )
    assert FitSettings.from_mapping({"fixed_k": 5}).fixed_k == 5
    with pytest.raises(ValueError):
        FitSettings.from_mapping({"k_min": 1})


def test_previous_run_and_next_id_come_from_the_history_table() -> None:
    """What the dbt model reads from its own table before a refit, through its session."""
    settings = FitSettings(k_min=2, k_max=6, n_init=4, match_max_distance=1.0, min_fit_customers=20)
    sample = _blobs(["vinyl", "tea", "deal"], seed=1)
    assert feature_columns([*sample.columns, "customer_key", "as_of_date", "fitting_sample_rank"]) == list(
        sample.columns
    )
    first = fit_run(sample, FEATURES, date(2026, 1, 1), None, 1, settings)
    second = fit_run(_blobs(["vinyl", "tea", "both"], seed=3), FEATURES, date(2026, 1, 3), first, 4, settings)
    con = duckdb.connect()
    con.register("first_run", first)
    con.register("second_run", second)
    con.execute(f"create table history as select {history_projection()} from first_run")
    con.execute(f"insert into history select {history_projection()} from second_run")

    def query(sql: str) -> pd.DataFrame:
        return con.execute(sql).df()

    # Refitting 2026-01-03 again: the previous run is 2026-01-01, ids 1-3 are used.
    previous, next_id = previous_run(query, "history", date(2026, 1, 3))
    assert set(previous.as_of_date.dt.date) == {date(2026, 1, 1)} and next_id == 4
    # A later date: the previous run is 2026-01-03, whose new segment took id 4.
    previous, next_id = previous_run(query, "history", date(2026, 1, 9))
    assert set(previous.as_of_date.dt.date) == {date(2026, 1, 3)} and next_id == 5
    # The first run ever: nothing before it.
    previous, next_id = previous_run(query, "history", date(2025, 12, 1))
    assert previous.empty and next_id == 5
    con.close()
