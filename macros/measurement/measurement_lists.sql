{#-
  The cells and metrics of treatment_effects, in one place: adding a
  breakdown or an outcome is a line here (plus its column in
  treatment_outcomes).
-#}

{#- Breakdowns of each campaign: name, value and label expressions over
    treatment_outcomes (joined with lifecycle_stages' stage_order), sort key. -#}
{% macro measurement_effect_dimensions() -%}
    {{ return([
        {'name': 'overall', 'value': "'all'", 'label': "'all customers'", 'order': '0'},
        {'name': 'needs_segment', 'value': 'needs_segment_id', 'label': 'persona_name', 'order': 'needs_segment_id'},
        {'name': 'value_tier', 'value': 'value_tier', 'label': 'value_tier', 'order': 'coalesce(value_tier_rank, 99)'},
        {'name': 'lifecycle_stage', 'value': 'lifecycle_stage', 'label': 'lifecycle_stage', 'order': 'stage_order'},
    ]) }}
{%- endmacro %}


{#- Outcomes summed per arm: name and expression over treatment_outcomes.
    nullable: the outcome can be unknown for an assignment (margin, when an
    order in the window has no known cost); its unknowns are counted per arm
    and its metric is not estimated in a cell that has any (dropping them
    would drop buyers only). -#}
{% macro measurement_effect_outcomes() -%}
    {{ return([
        {'name': 'visits', 'expression': 'case when visited then 1 else 0 end'},
        {'name': 'conversions', 'expression': 'case when converted then 1 else 0 end'},
        {'name': 'revenue', 'expression': 'revenue'},
        {'name': 'margin', 'expression': 'margin', 'nullable': true},
    ]) }}
{%- endmacro %}


{#- Metrics of treatment_effects: the outcome they average and their test.
    'proportion': two-proportion z-test (pooled standard error),
    Agresti-Caffo interval; 'mean': Welch's unequal-variance t-test and
    interval. -#}
{% macro measurement_effect_metrics() -%}
    {{ return([
        {'name': 'visit_rate', 'outcome': 'visits', 'kind': 'proportion'},
        {'name': 'conversion_rate', 'outcome': 'conversions', 'kind': 'proportion'},
        {'name': 'revenue_per_customer', 'outcome': 'revenue', 'kind': 'mean'},
        {'name': 'margin_per_customer', 'outcome': 'margin', 'kind': 'mean'},
    ]) }}
{%- endmacro %}


{#- The estimates of loyalty_program_effect: which units they keep (filter),
    the strata they match within (stratum), the outcome per measure (outcome,
    a format string over orders, revenue and margin), whether the share of
    members exceeding their pre-period rate is estimated (share), and whether
    it is the headline. int_measurement__loyalty_strata sums them per stratum. -#}
{% macro measurement_loyalty_estimates() -%}
    {{ return([
        {'name': 'naive', 'headline': false, 'filter': 'true', 'stratum': as_text('cohort_month'),
         'outcome': 'post_{}', 'share': false,
         'description': 'Members after joining against non-members in the same months, unmatched, no before/after difference'},
        {'name': 'matched_did', 'headline': false, 'filter': 'true', 'stratum': 'stratum_id',
         'outcome': '{}_change', 'share': true,
         'description': 'Difference in differences against non-members matched on join month and pre-join behaviour'},
        {'name': 'matched_did_active', 'headline': true, 'filter': 'is_active_after', 'stratum': 'stratum_id',
         'outcome': '{}_change', 'share': true,
         'description': 'Matched difference in differences among customers still buying after the post-period'},
    ]) }}
{%- endmacro %}


{#- What the loyalty estimates measure per unit (int_measurement__loyalty_units). -#}
{% macro measurement_loyalty_measures() -%}
    {{ return(['orders', 'revenue', 'margin']) }}
{%- endmacro %}
