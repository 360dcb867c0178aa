{#- The person graph's nodes numbered in anchor order: earliest first seen,
    then type priority, then id. Label propagation then moves small integers
    instead of text, which keeps its memory flat at millions of customers. -#}
select
    node_id,
    row_number() over (
        order by
            case when first_seen_at is null then 1 else 0 end,
            first_seen_at,
            priority,
            node_id
    ) as node_rank
from {{ ref('int_identity__identifiers') }}
where is_used and identifier_type != 'anonymous_id'
