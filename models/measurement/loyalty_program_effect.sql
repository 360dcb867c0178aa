{#-
  What the loyalty club causes: members' orders, revenue and margin in the
  var measurement_loyalty_post_days after joining, against what they would
  have done without joining, estimated from non-members over the same periods
  (int_measurement__loyalty_units). One row per estimate, so the naive
  figure is shown beside the causal one:
  - naive: members' post-period against non-members' in the same join months,
    without matching or a before/after difference (what a dashboard shows);
  - matched_did: difference in differences within strata (join month x
    pre-period repeat orders x tenure x recency bins): each unit's change is
    its post-period minus its own pre-period rate scaled to the post-period's
    length; the effect is the member-weighted mean over strata of (members'
    mean change - non-members' mean change). Members in strata with fewer than
    var measurement_loyalty_min_stratum_controls non-members are unmatched
    and left out;
  - matched_did_active (the headline): the same among customers still buying
    after the post-period (a purchase at or after its end, by the as-of date),
    members and non-members alike. Customers join a club while they are
    customers; a silent non-member may have left for good, which the
    non-members' post-period would show as a drop that membership did not
    prevent, overstating the club. Restricting both groups to customers still
    active afterwards removes that survivorship gap; it assumes membership
    does not change whether customers leave (a club that reduced churn would
    be under-credited).
  Standard errors: pooled within-stratum variances of each group, var(effect)
  = V_members / N_members + V_controls * sum over strata of (w_s^2 / n_controls_s),
  w_s the stratum's share of members; normal 95% intervals and two-sided p-values.
  Share of members whose behaviour did not change: a changed member buys
  more after joining than their own pre-period rate, but so do some
  unchanged members and non-members by chance. The changed share is bounded
  from below by the members' excess over chance: (share of members whose
  post-period orders exceed their pre-period rate - the same share among the
  matched non-members, stratum-weighted) / (1 - the latter), which is the
  changed share if every changed member exceeded it; changed members whose
  extra purchases fall outside the post-period, or who would have exceeded
  anyway, are not counted, so unchanged_share_upper_bound (1 - that) can
  only overstate the members the club did not change. The interval treats
  the non-members' share as known. incremental_share_of_member_orders says
  how much of members' buying the club caused; the rest would have happened
  anyway.
-#}
{%- set post_days = var('measurement_loyalty_post_days', 90) -%}
{%- set pre_days = var('measurement_loyalty_pre_days', 365) -%}
{%- set min_controls = [var('measurement_loyalty_min_stratum_controls', 5) | int, 2] | max -%}
{%- set z_alpha = measurement_critical_z() -%}
{%- set alpha = var('measurement_alpha', 0.05) | float -%}
{%- set float_type = measurement_type_double() -%}
{%- set measures = measurement_loyalty_measures() -%}
{%- set estimates = measurement_loyalty_estimates() -%}
with

-- Per estimate and stratum, members' (m) and non-members' (c) sums.
strata as (
    select
        {%- for group in ['m', 'c'] %}
            n_{{ group }},
            {%- for measure in measures %}
                s_{{ measure }}_{{ group }},
                ss_{{ measure }}_{{ group }},
            {%- endfor %}
            pre_{{ group }},
            post_{{ group }},
            exceeding_{{ group }},
        {%- endfor %}
        estimate,
        stratum_id
    from {{ ref('int_measurement__loyalty_strata') }}
),

population as (
    select
        estimate,
        sum(n_m) as members_total
    from strata
    group by estimate
),

matched as (
    select
        estimate,
        stratum_id,
        cast(n_m as {{ float_type }}) as n_m,
        cast(n_c as {{ float_type }}) as n_c,
        {%- for measure in measures %}
            s_{{ measure }}_m,
            ss_{{ measure }}_m,
            s_{{ measure }}_c,
            ss_{{ measure }}_c,
        {%- endfor %}
        pre_m,
        post_m,
        pre_c,
        post_c,
        cast(exceeding_m as {{ float_type }}) as exceeding_m,
        cast(exceeding_c as {{ float_type }}) / n_c as exceeding_share_c
    from strata
    where n_m > 0 and n_c >= {{ min_controls }}
),

-- Each stratum's terms, summed below in exact decimals (macros/sql/exact_aggregates.sql), so
-- the pooled figures do not depend on the order strata are read in.
terms as (
    select
        estimate,
        n_m,
        n_c,
        {%- for measure in measures %}
            n_m * (s_{{ measure }}_m / n_m - s_{{ measure }}_c / n_c) as effect_term_{{ measure }},
            ss_{{ measure }}_m - s_{{ measure }}_m * s_{{ measure }}_m / n_m as within_term_{{ measure }}_m,
            ss_{{ measure }}_c - s_{{ measure }}_c * s_{{ measure }}_c / n_c as within_term_{{ measure }}_c,
        {%- endfor %}
        n_m * n_m / n_c as control_weight_term,
        pre_m,
        post_m,
        n_m * pre_c / n_c as control_pre_term,
        n_m * post_c / n_c as control_post_term,
        exceeding_m,
        n_m * exceeding_share_c as controls_exceeding_term,
        n_m * n_m * exceeding_share_c * (1 - exceeding_share_c) / n_c as controls_exceeding_variance_term
    from matched
),

pooled as (
    select
        estimate,
        {{ exact_sum('n_m') }} as members_measured,
        {{ exact_sum('n_c') }} as control_units,
        count(*) as strata_matched,
        {%- for measure in measures %}
            {{ exact_sum('effect_term_' ~ measure) }} / {{ exact_sum('n_m') }} as effect_{{ measure }},
            {{ exact_sum('within_term_' ~ measure ~ '_m') }}
            / nullif({{ exact_sum('n_m') }} - count(*), 0) as within_var_{{ measure }}_m,
            {{ exact_sum('within_term_' ~ measure ~ '_c') }}
            / nullif({{ exact_sum('n_c') }} - count(*), 0) as within_var_{{ measure }}_c,
        {%- endfor %}
        {{ exact_sum('control_weight_term') }} / ({{ exact_sum('n_m') }} * {{ exact_sum('n_m') }})
            as control_weight_factor,
        {{ exact_sum('pre_m') }} / {{ exact_sum('n_m') }} as member_pre_orders,
        {{ exact_sum('post_m') }} / {{ exact_sum('n_m') }} as member_post_orders,
        {{ exact_sum('control_pre_term') }} / {{ exact_sum('n_m') }} as control_pre_orders,
        {{ exact_sum('control_post_term') }} / {{ exact_sum('n_m') }} as control_post_orders,
        {{ exact_sum('exceeding_m') }} / {{ exact_sum('n_m') }} as members_exceeding_share,
        {{ exact_sum('controls_exceeding_term') }} / {{ exact_sum('n_m') }} as controls_exceeding_share,
        {{ exact_sum('controls_exceeding_variance_term') }} / ({{ exact_sum('n_m') }} * {{ exact_sum('n_m') }})
            as controls_exceeding_variance
    from terms
    group by estimate
),

errors as (
    select
        estimate,
        members_measured,
        control_units,
        strata_matched,
        {%- for measure in measures %}
            effect_{{ measure }},
            sqrt(
                within_var_{{ measure }}_m / members_measured
                + within_var_{{ measure }}_c * control_weight_factor
            ) as se_{{ measure }},
        {%- endfor %}
        member_pre_orders,
        member_post_orders,
        control_pre_orders,
        control_post_orders,
        members_exceeding_share,
        controls_exceeding_share,
        (members_exceeding_share - controls_exceeding_share) / nullif(1 - controls_exceeding_share, 0)
            as changed_share_lower_bound,
        sqrt(
            members_exceeding_share * (1 - members_exceeding_share) / members_measured
            + controls_exceeding_variance
        ) / nullif(1 - controls_exceeding_share, 0) as changed_share_standard_error
    from pooled
),

-- The changed share's bound and its interval, within [0, 1]; none for the naive estimate.
bounds as (
    select
        {%- for name, value in [
            ('changed_share_lower_bound', 'changed_share_lower_bound'),
            ('changed_share_lower_bound_lower',
                'changed_share_lower_bound - ' ~ z_alpha ~ ' * changed_share_standard_error'),
            ('changed_share_lower_bound_upper',
                'changed_share_lower_bound + ' ~ z_alpha ~ ' * changed_share_standard_error'),
        ] %}
            case
                when estimate != 'naive' and {{ value }} is not null
                    then greatest(0.0, least(1.0, {{ value }}))
            end as {{ name }},
        {%- endfor %}
        estimate
    from errors
),

final as (
    select
        population.estimate,
        case population.estimate
            {%- for estimate in estimates %}
                when '{{ estimate.name }}' then {{ 'true' if estimate.headline else 'false' }}
            {%- endfor %}
        end as is_headline,
        case population.estimate
            {%- for estimate in estimates %}
                when '{{ estimate.name }}' then '{{ estimate.description }}'
            {%- endfor %}
        end as method_description,
        {{ pre_days }} as pre_days,
        {{ post_days }} as post_days,
        population.members_total,
        coalesce(errors.members_measured, 0) as members_measured,
        population.members_total - coalesce(errors.members_measured, 0) as members_unmatched,
        coalesce(errors.control_units, 0) as control_units,
        coalesce(errors.strata_matched, 0) as strata_matched,
        errors.member_pre_orders,
        errors.member_post_orders,
        errors.control_pre_orders,
        errors.control_post_orders,
        {%- for measure in measures %}
            errors.effect_{{ measure }} as incremental_{{ measure }}_per_member,
            errors.effect_{{ measure }} - {{ z_alpha }} * errors.se_{{ measure }}
                as incremental_{{ measure }}_per_member_lower,
            errors.effect_{{ measure }} + {{ z_alpha }} * errors.se_{{ measure }}
                as incremental_{{ measure }}_per_member_upper,
            errors.se_{{ measure }} as incremental_{{ measure }}_standard_error,
            {{ measurement_two_sided_p_value('errors.effect_' ~ measure ~ ' / nullif(errors.se_' ~ measure ~ ', 0)') }}
                as incremental_{{ measure }}_p_value,
        {%- endfor %}
        errors.effect_orders * errors.members_measured as incremental_orders_total,
        errors.effect_margin * errors.members_measured as incremental_margin_total,
        errors.effect_orders / nullif(errors.member_post_orders, 0) as incremental_share_of_member_orders,
        coalesce(
            {{ measurement_two_sided_p_value('errors.effect_orders / nullif(errors.se_orders, 0)') }} < {{ alpha }},
            false
        ) as is_significant,
        case when population.estimate != 'naive' then errors.members_exceeding_share end
            as members_exceeding_share,
        case when population.estimate != 'naive' then errors.controls_exceeding_share end
            as controls_exceeding_share,
        bounds.changed_share_lower_bound,
        bounds.changed_share_lower_bound_lower,
        bounds.changed_share_lower_bound_upper,
        1 - bounds.changed_share_lower_bound as unchanged_share_upper_bound,
        {{ as_of_date_literal() }} as as_of_date
    from population
    left join errors on population.estimate = errors.estimate
    left join bounds on population.estimate = bounds.estimate
)

select * from final
