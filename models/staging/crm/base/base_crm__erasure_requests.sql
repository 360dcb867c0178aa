{{ config(materialized='ephemeral') }}
{#- Every erasure request, from raw crm.erasure_requests and from the seed
    privacy_erasure_requests (manual entries), one row per named identifier,
    normalised like staging normalises it. Ephemeral on purpose: the list of
    erased persons is never stored in the warehouse (docs/privacy.md). -#}
{%- set raw_columns = ['request_id', 'requested_at', 'identifier_type', 'identifier_value'] -%}
{{ assert_raw_contract('crm', 'erasure_requests') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('crm', 'erasure_requests') }}
),

manual as (
    select {{ select_raw_text(raw_columns) }}
    from {{ ref('privacy_erasure_requests') }}
),

requests as (
    select
        raw_request_id,
        raw_requested_at,
        raw_identifier_type,
        raw_identifier_value,
        'crm.erasure_requests' as requested_in
    from source
    union all
    select
        raw_request_id,
        raw_requested_at,
        raw_identifier_type,
        raw_identifier_value,
        'seeds.privacy_erasure_requests' as requested_in
    from manual
),

parsed as (
    select
        raw_request_id as request_id,
        {{ parse_timestamp_utc('raw_requested_at') }} as requested_at,
        lower(raw_identifier_type) as identifier_type,
        raw_identifier_value,
        requested_in
    from requests
),

final as (
    select
        request_id,
        requested_at,
        identifier_type,
        case identifier_type
            when 'email' then {{ normalize_email('raw_identifier_value') }}
            when 'phone' then {{ digits_only('raw_identifier_value') }}
            else raw_identifier_value
        end as identifier_value,
        requested_in
    from parsed
)

select
    request_id,
    requested_at,
    identifier_type,
    identifier_value,
    {{ dbt.concat(['identifier_type', "':'", 'identifier_value']) }} as node_id,
    requested_in
from final
