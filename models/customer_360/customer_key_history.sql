{#-
  Every customer_key that stopped being a person's key, and the key that
  took over: the record of merges (two persons found to be one). Consumers
  that stored a retired key follow previous_customer_key -> customer_key;
  chains (A -> B, later B -> C) are followed row by row in changed_at order.
  Built from identity_map_history, so it spans every build run on this warehouse.
-#}
with

snapshot as (
    select
        identity_map_id,
        customer_key,
        valid_from as dbt_valid_from,
        valid_to as dbt_valid_to
    from {{ ref('identity_map_history') }}
),

current_keys as (
    select distinct customer_key from snapshot
    where dbt_valid_to is null
),

key_changes as (
    select
        earlier.customer_key as previous_customer_key,
        later.customer_key,
        later.dbt_valid_from as changed_at,
        earlier.identity_map_id
    from snapshot as earlier
    inner join snapshot as later
        on
            earlier.identity_map_id = later.identity_map_id
            and earlier.dbt_valid_to = later.dbt_valid_from
    where earlier.customer_key != later.customer_key
),

final as (
    select
        {{ dbt.concat(['key_changes.previous_customer_key', "'>'", 'key_changes.customer_key']) }}
            as customer_key_change_id,
        key_changes.previous_customer_key,
        key_changes.customer_key,
        min(key_changes.changed_at) as changed_at,
        count(*) as identifiers_moved,
        max(case when current_keys.customer_key is null then 1 else 0 end) = 1 as is_previous_key_retired
    from key_changes
    left join current_keys on key_changes.previous_customer_key = current_keys.customer_key
    group by key_changes.previous_customer_key, key_changes.customer_key
)

select * from final
