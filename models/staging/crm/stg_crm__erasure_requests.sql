{{ config(materialized='ephemeral') }}
{#- One row per erasure request: when it was made and how many identifiers it
    names. No identifier leaves this model, and it is ephemeral: only counts
    reach a table (audit.audit__erasures). -#}
with

requests as (
    select
        request_id,
        requested_at,
        identifier_value
    from {{ ref('base_crm__erasure_requests') }}
    where request_id is not null
),

final as (
    select
        request_id,
        min(requested_at) as requested_at,
        count(identifier_value) as identifiers_named
    from requests
    group by request_id
)

select * from final
