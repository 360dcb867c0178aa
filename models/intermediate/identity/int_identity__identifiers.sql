{#-
  One row per identifier with the rules applied: blocklisted placeholders and
  identifiers linked to more accounts than their type allows (a role mailbox,
  a shared phone line) stay out of the person graph, so they can never merge
  different people. Cookies are judged later, against resolved persons
  (int_identity__cookies).
-#}
with

observations as (
    select * from {{ ref('int_identity__observations') }}
),

identifier_types as (
    select
        identifier_type,
        priority,
        max_linked_accounts
    from {{ ref('identity_identifier_types') }}
),

blocklist as (
    select
        identifier_type,
        lower(trim(identifier_value)) as identifier_value,
        reason
    from {{ ref('identity_blocklist') }}
),

summarised as (
    select
        node_id,
        identifier_type,
        identifier_value,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as sightings,
        count(distinct case
            when linked_node_id like 'customer_id:%' and linked_node_id != node_id then linked_node_id
        end) as linked_accounts
    from observations
    group by node_id, identifier_type, identifier_value
),

final as (
    select
        summarised.node_id,
        summarised.identifier_type,
        summarised.identifier_value,
        identifier_types.priority,
        summarised.first_seen_at,
        summarised.last_seen_at,
        summarised.sightings,
        summarised.linked_accounts,
        blocklist.reason as blocklist_reason,
        summarised.identifier_type not in ('customer_id', 'anonymous_id')
        and summarised.linked_accounts > identifier_types.max_linked_accounts as is_shared_across_accounts
    from summarised
    inner join identifier_types on summarised.identifier_type = identifier_types.identifier_type
    left join blocklist
        on
            summarised.identifier_type = blocklist.identifier_type
            and summarised.identifier_value = blocklist.identifier_value
)

select
    *,
    blocklist_reason is null and not is_shared_across_accounts as is_used
from final
