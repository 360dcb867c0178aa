{%- set raw_columns = [
    'customer_id', 'email', 'phone', 'first_name', 'last_name', 'birth_date',
    'postal_code', 'city', 'country', 'created_at', 'updated_at'
] -%}
{{ assert_raw_contract('shop', 'customers') }}

with

source as (
    select
        {{- select_raw_text(raw_columns) }},
        -- A tie between two versions of a row goes to the later file.
        {{ raw_file_name('shop', 'customers') }} as raw_file
    from {{ raw_source('shop', 'customers') }}
    -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
    where {{ erasure_keeps_raw('shop.customers') }}
),

parsed as (
    select
        *,
        raw_customer_id as customer_id,
        {{ parse_timestamp_utc('raw_created_at') }} as created_at,
        {{ parse_timestamp_utc('raw_updated_at') }} as updated_at,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['customer_id', 'updated_at']) }} as raw_key
    from source
),

checked as (
    select
        *,
        case
            when customer_id is null then 'null_key:customer_id'
            when raw_updated_at is null then 'null_key:updated_at'
            when updated_at is null then 'unparseable_value:updated_at'
            when raw_created_at is null then 'missing_value:created_at'
            when created_at is null then 'unparseable_value:created_at'
            when updated_at >= {{ as_of_upper_bound() }} then 'after_as_of:updated_at'
        end as row_problem
    from parsed
),

-- A record version is keyed by its own timestamp: two versions written at the same
-- instant go to the later file.
{{ decide_quarantine(['customer_id', 'updated_at'], newest_first=[]) }}
