{#- Lean storage (docs/scale.md): a view, read once (int_activation__primary_treatments; one
    second at 100k customers); as a table it took 4 MiB there. -#}
{{ config(materialized='view') }}
-- Every treatment a customer is eligible for this run, with what it is worth:
-- one row per customer and matching rule (rule- and algorithm-based), plus the
-- proposals of a model when model scores are switched on.
with

customer_facts as (
    select
        customer_key,
        lifecycle_stage,
        value_tier,
        needs_segment_id,
        p_alive,
        expected_order_value,
        margin_rate,
        cross_sell_category,
        cross_sell_expected_margin
    from {{ ref('int_activation__customer_facts') }}
),

recent_events as (
    select
        customer_key,
        event_type
    from {{ ref('int_activation__recent_journey_events') }}
),

rules as (
    select
        rule_id,
        priority,
        lifecycle_stage,
        value_tier,
        needs_segment_id,
        journey_event,
        min_p_alive,
        max_p_alive,
        min_cross_sell_margin,
        max_cross_sell_margin,
        treatment_code,
        selection_method,
        description
    from {{ ref('activation_rules') }}
),

treatments as (
    select
        treatment_code,
        cost_per_contact,
        expected_response_rate
    from {{ ref('activation_treatments') }}
),

model_scores as (
    select
        customer_key,
        treatment_code,
        model_id,
        expected_incremental_margin
    from {{ ref('int_activation__model_scores') }}
),

rule_matches as (
    select
        customer_facts.customer_key,
        rules.rule_id,
        rules.priority,
        rules.treatment_code,
        rules.selection_method,
        rules.description,
        customer_facts.cross_sell_category,
        customer_facts.lifecycle_stage,
        customer_facts.value_tier,
        customer_facts.expected_order_value,
        customer_facts.margin_rate,
        customer_facts.cross_sell_expected_margin,
        case
            when rules.selection_method = 'algorithm' and customer_facts.cross_sell_category is not null
                then {{ dbt.concat(["'; next best category '", "customer_facts.cross_sell_category"]) }}
        end as reason_detail
    from customer_facts
    inner join rules
        on
            (rules.lifecycle_stage = '*' or customer_facts.lifecycle_stage = rules.lifecycle_stage)
            and (rules.value_tier = '*' or customer_facts.value_tier = rules.value_tier)
            and (
                rules.needs_segment_id = '*'
                or {{ as_text('customer_facts.needs_segment_id') }} = rules.needs_segment_id
            )
            and (rules.min_p_alive is null or customer_facts.p_alive >= rules.min_p_alive)
            and (rules.max_p_alive is null or customer_facts.p_alive <= rules.max_p_alive)
            and (
                rules.min_cross_sell_margin is null
                or customer_facts.cross_sell_expected_margin >= rules.min_cross_sell_margin
            )
            and (
                rules.max_cross_sell_margin is null
                or customer_facts.cross_sell_expected_margin <= rules.max_cross_sell_margin
            )
    left join recent_events
        on
            customer_facts.customer_key = recent_events.customer_key
            and rules.journey_event = recent_events.event_type
    where rules.journey_event = '*' or recent_events.customer_key is not null
),

rule_candidates as (
    select
        rule_matches.customer_key,
        rule_matches.rule_id,
        rule_matches.priority,
        rule_matches.treatment_code,
        rule_matches.selection_method,
        -- Expected margin of one contact: the response rate times the margin a
        -- response brings (the cross-sell potential for a cross-sell, else the
        -- customer's expected order at their margin rate), less the contact's cost.
        treatments.expected_response_rate * coalesce(
            case
                when rule_matches.selection_method = 'algorithm'
                    then rule_matches.cross_sell_expected_margin
            end,
            rule_matches.expected_order_value * rule_matches.margin_rate,
            0
        ) - treatments.cost_per_contact as expected_value,
        {{ dbt.concat([
            "rule_matches.rule_id", "': '", "rule_matches.description",
            "' (stage '", "coalesce(rule_matches.lifecycle_stage, 'unknown')",
            "', tier '", "coalesce(rule_matches.value_tier, 'unknown')",
            "coalesce(rule_matches.reason_detail, '')", "')'"
        ]) }} as reason
    from rule_matches
    inner join treatments on rule_matches.treatment_code = treatments.treatment_code
),

model_candidates as (
    select
        model_scores.customer_key,
        model_scores.model_id as rule_id,
        -- A model's proposal outranks every rule: it only exists where the
        -- expected incremental margin pays for the contact.
        0 as priority,
        model_scores.treatment_code,
        'model' as selection_method,
        model_scores.expected_incremental_margin - treatments.cost_per_contact as expected_value,
        {{ dbt.concat([
            "model_scores.model_id", "': expected incremental margin above the contact cost'"
        ]) }} as reason
    from model_scores
    inner join treatments on model_scores.treatment_code = treatments.treatment_code
    where
        {{ 'true' if var('activation_use_uplift_scores') else 'false' }}
        and model_scores.expected_incremental_margin > treatments.cost_per_contact
),

final as (
    select
        customer_key,
        rule_id,
        priority,
        treatment_code,
        selection_method,
        expected_value,
        reason
    from rule_candidates
    union all
    select
        customer_key,
        rule_id,
        priority,
        treatment_code,
        selection_method,
        expected_value,
        reason
    from model_candidates
)

select * from final
