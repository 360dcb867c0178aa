"""End to end: build the whole warehouse on generated data and hold activation to its hard
limits: no treatment in a channel without current consent, holdout shares at their configured
values and stable across runs, exclusions that explain every eligible customer left out, an
assignment history that a rerun does not duplicate, and a rule change in the seed that shows in
the next run.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from orchestration.dbt_cli import DbtWorkspace, run_dbt

pytestmark = pytest.mark.slow

GLOBAL_HOLDOUT_SHARE = 0.05  # dbt_project.yml var activation_global_holdout_share
# The models a rule change flows through, up to the assignment history (not measurement).
ACTIVATION_AFTER_RULES = (
    "int_activation__candidates",
    "int_activation__primary_treatments",
    "int_activation__channel_choices",
    "treatment_exclusions",
    "customer_treatments",
    "treatment_assignment_history",
)


def _query(workspace: DbtWorkspace, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as connection:
        return connection.execute(sql).df()


def _execute(workspace: DbtWorkspace, sql: str) -> None:
    with duckdb.connect(str(workspace.duckdb_path)) as connection:
        connection.execute(sql)


def _dbt(workspace: DbtWorkspace, *args: str) -> None:
    result = run_dbt(list(args), workspace)
    assert result.returncode == 0, result.stdout[-6000:]


@pytest.fixture(scope="module")
def build(full_build: DbtWorkspace) -> DbtWorkspace:
    return full_build


def _treatments(workspace: DbtWorkspace) -> pd.DataFrame:
    return _query(workspace, "select * from activation.customer_treatments")


def test_no_treatment_goes_to_a_channel_without_current_consent(build: DbtWorkspace) -> None:
    # Consent recomputed here from the staged changes, independently of the 360: the latest
    # change per customer key and channel up to the as-of date decides.
    latest = _query(
        build,
        """
        with changes as (
            select keys.customer_key, consents.channel, consents.is_granted, consents.changed_at,
                   row_number() over (
                       partition by keys.customer_key, consents.channel
                       order by consents.changed_at desc, consents.is_granted asc
                   ) as recency
            from staging.stg_crm__consents as consents
            join intermediate.int_identity__account_keys as keys using (customer_id)
        )
        select customer_key, channel, is_granted from changes where recency = 1
        """,
    )
    treatments = _treatments(build)
    checked = treatments.merge(latest, on=["customer_key", "channel"], how="left")
    without_consent = checked[checked.is_granted.ne(True)]
    print(
        f"treatments={len(treatments)} (sent={int((~treatments.is_holdout).sum())}); "
        f"by channel: {treatments.channel.value_counts().to_dict()}; without consent: {len(without_consent)}"
    )
    assert len(treatments) > 500
    assert without_consent.empty, without_consent.head().to_string()


def test_holdout_shares_match_the_configuration(build: DbtWorkspace) -> None:
    treatments = _treatments(build)
    catalog = _query(build, "select treatment_code, control_share from reference.activation_treatments")
    global_share = (treatments.holdout_type == "global").mean()
    print(f"global holdout share {global_share:.4f} of {len(treatments)} (configured {GLOBAL_HOLDOUT_SHARE})")
    assert abs(global_share - GLOBAL_HOLDOUT_SHARE) < 0.01

    # Within each treatment, among customers outside the global group, the treatment's own
    # control share. A small group cannot be within 1 point by chance alone, so the tolerance is
    # 1 point or three binomial standard errors, whichever is larger.
    outside_global = treatments[treatments.holdout_type.ne("global")]
    shares = outside_global.groupby("treatment_code").agg(
        rows=("assignment_id", "size"), held=("is_holdout", "mean")
    )
    shares = shares.join(catalog.set_index("treatment_code"))
    shares["tolerance"] = (3 * (shares.control_share * (1 - shares.control_share) / shares.rows) ** 0.5).clip(
        lower=0.01
    )
    print(shares.to_string())
    assert ((shares.held - shares.control_share).abs() <= shares.tolerance).all()


def test_holdout_assignment_is_stable_and_driven_by_the_salt(build: DbtWorkspace) -> None:
    before = _treatments(build).set_index("assignment_id")
    _dbt(build, "run", "--select", "customer_treatments")
    again = _treatments(build).set_index("assignment_id")
    pd.testing.assert_series_equal(before.is_holdout.sort_index(), again.is_holdout.sort_index())

    _dbt(build, "run", "--select", "customer_treatments", "--vars", "{activation_holdout_salt: other-salt}")
    resalted = _treatments(build).set_index("assignment_id")
    changed = (before.is_holdout.sort_index() != resalted.is_holdout.sort_index()).mean()
    print(f"holdout flags changed by a new salt: {changed:.3f}")
    assert changed > 0.02
    _dbt(build, "run", "--select", "customer_treatments")


def test_every_eligible_customer_is_treated_held_out_or_excluded_with_a_reason(build: DbtWorkspace) -> None:
    counts = _query(
        build,
        """
        select
            (select count(*) from customer_360.customer_360) as customers,
            (select count(*) from activation.customer_treatments) as treated_or_held_out,
            (select count(distinct customer_key) from activation.treatment_exclusions) as excluded,
            (select count(*) from activation.customer_treatments as t
             join activation.treatment_exclusions as e using (customer_key)) as both
        """,
    ).iloc[0]
    reasons = _query(
        build, "select exclusion_reason, count(*) as n from activation.treatment_exclusions group by 1"
    )
    print(counts.to_dict(), reasons.set_index("exclusion_reason").n.to_dict())
    assert counts.both == 0
    assert counts.treated_or_held_out + counts.excluded == counts.customers


def test_assignment_history_keeps_each_run_once(build: DbtWorkspace) -> None:
    first = _query(build, "select count(*) as n from activation.treatment_assignment_history").n[0]
    _dbt(build, "run", "--select", "treatment_assignment_history")
    second = _query(
        build,
        "select count(*) as n, count(distinct assignment_id) as ids from activation.treatment_assignment_history",
    )
    assert first == second.n[0] == second.ids[0] == len(_treatments(build))


def test_a_rule_changed_in_the_seed_changes_the_next_run(build: DbtWorkspace) -> None:
    # A marketer moves the newsletter rule to the top: every customer with email consent who is
    # not excluded now gets the newsletter, and the reason says which rule chose it.
    _execute(build, "update reference.activation_rules set priority = 1 where rule_id = 'R090'")
    try:
        _dbt(build, "run", "--select", *ACTIVATION_AFTER_RULES)
        treatments = _treatments(build)
        print(treatments.treatment_code.value_counts().to_dict())
        assert set(treatments.treatment_code) == {"NEWSLETTER"}
        assert treatments.reason.str.startswith("R090").all()
        # The rerun for the same as-of date replaced that run's assignments in the history.
        history = _query(build, "select treatment_code from activation.treatment_assignment_history")
        assert set(history.treatment_code) == {"NEWSLETTER"}
    finally:
        _dbt(build, "seed", "--select", "activation_rules")
        _dbt(build, "run", "--select", *ACTIVATION_AFTER_RULES)
    assert _treatments(build).treatment_code.nunique() > 3


def test_syncs_send_only_treated_rows_and_nothing_when_a_rerun_changes_nothing(
    build: DbtWorkspace, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from orchestration.syncs.config import load_config
    from orchestration.syncs.runner import run_all_syncs

    monkeypatch.setenv("CIW_SYNC_EXPORTS_PATH", str(tmp_path / "exports"))
    config = load_config(environ={"CIW_SYNC_EXPORTS_PATH": str(tmp_path / "exports")})
    treatments = _treatments(build)
    first = run_all_syncs(build.duckdb_path, config, run_id="first")
    sent = {result.channel: result.total("added") for result in first}
    expected = treatments[~treatments.is_holdout].channel.value_counts().to_dict()
    print(f"first sync, rows added per channel: {sent}")
    assert all(result.ok for result in first)
    assert {channel: n for channel, n in sent.items() if n} == expected

    # Every channel maps assignment_id: what reached the files is exactly the treated rows.
    exported: list[str] = []
    for path in sorted((tmp_path / "exports").rglob("*.*")):
        if path.suffix == ".jsonl":
            exported += [json.loads(line)["assignment_id"] for line in path.read_text().splitlines()]
        elif path.suffix == ".csv":
            exported += pd.read_csv(path).assignment_id.tolist()
    assert sorted(exported) == sorted(treatments[~treatments.is_holdout].assignment_id)

    # The pipeline runs again on the same data: same assignments, nothing to send.
    _dbt(build, "run", "--select", *ACTIVATION_AFTER_RULES)
    second = run_all_syncs(build.duckdb_path, config, run_id="second")
    resent = sum(result.total(counter) for result in second for counter in ("added", "changed", "removed"))
    print(f"rerun with no new data: rows sent {resent}")
    assert resent == 0
