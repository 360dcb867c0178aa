-- One treatment per customer and run: the eligible candidate with the lowest
-- priority number; a tie (only possible between a model and rules, or rules of
-- equal priority, which a seed test refuses) goes to the higher expected value.
with

candidates as (
    select
        customer_key,
        rule_id,
        priority,
        treatment_code,
        selection_method,
        expected_value,
        reason
    from {{ ref('int_activation__candidates') }}
),

ranked as (
    select
        customer_key,
        rule_id,
        priority,
        treatment_code,
        selection_method,
        expected_value,
        reason,
        row_number() over (
            partition by customer_key
            order by priority asc, expected_value desc, rule_id asc
        ) as candidate_rank
    from candidates
)

select
    customer_key,
    rule_id,
    priority,
    treatment_code,
    selection_method,
    expected_value,
    reason
from ranked
where candidate_rank = 1
