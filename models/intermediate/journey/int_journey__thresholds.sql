{#-
  The lifecycle thresholds (seed lifecycle_thresholds, one row per threshold)
  as one row with a column each, so the stage rules join them once. A
  threshold missing from the seed is null here, and the not_null tests in
  _int_journey__models.yml fail the build rather than silently changing stages.
-#}
{%- set day_thresholds = [
    'onboarding_days', 'reactivated_days',
    'at_risk_min_days', 'at_risk_max_days', 'at_risk_default_days',
    'lapsed_min_days', 'lapsed_max_days', 'lapsed_default_days',
    'loyal_min_purchase_days', 'loyal_max_rhythm_days',
    'rhythm_min_gaps', 'rhythm_max_gaps',
] -%}
{%- set ratio_thresholds = ['at_risk_rhythm_multiple', 'lapsed_rhythm_multiple', 'p_alive_at_risk_below'] -%}
with

thresholds as (
    select
        threshold_name,
        threshold_value
    from {{ ref('lifecycle_thresholds') }}
),

final as (
    select
        {%- for name in day_thresholds %}
            cast(max(case when threshold_name = '{{ name }}' then threshold_value end) as {{ dbt.type_int() }})
                as {{ name }},
        {%- endfor %}
        {%- for name in ratio_thresholds %}
            cast(max(case when threshold_name = '{{ name }}' then threshold_value end) as {{ dbt.type_float() }})
                as {{ name }},
        {%- endfor %}
        max(case when threshold_name = 'loyal_membership_counts' then threshold_value end) = 1
            as loyal_membership_counts
    from thresholds
)

select * from final
