{#- Parses raw crm.loyalty_members row by row, reading nothing but the source: every
    raw row, with the problem the row shows on its own (parse_problem). Whether
    its customer is staged is checked after parsing, in base_crm__loyalty_members. -#}
{%- set raw_columns = ['member_id', 'customer_id', 'joined_at', 'tier', 'points_balance', 'left_at'] -%}
{{ assert_raw_contract('crm', 'loyalty_members') }}

with

source as (
    select
        {{- select_raw_text(raw_columns) }},
        -- A tie between two versions of a row goes to the later file.
        {{ raw_file_name('crm', 'loyalty_members') }} as raw_file
    from {{ raw_source('crm', 'loyalty_members') }}
    -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
    where {{ erasure_keeps_raw('crm.loyalty_members') }}
),

parsed as (
    select
        *,
        raw_member_id as member_id,
        {{ parse_timestamp_utc('raw_joined_at') }} as joined_at,
        {{ parse_timestamp_utc('raw_left_at') }} as left_at,
        {{ parse_integer('raw_points_balance') }} as points_balance,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['member_id']) }} as raw_key
    from source
),

checked as (
    select
        *,
        case
            when member_id is null then 'null_key:member_id'
            when raw_customer_id is null then 'missing_value:customer_id'
            when raw_joined_at is null then 'missing_value:joined_at'
            when joined_at is null then 'unparseable_value:joined_at'
            when raw_left_at is not null and left_at is null then 'unparseable_value:left_at'
            when raw_points_balance is not null and points_balance is null
                then 'unparseable_value:points_balance'
            when left_at < joined_at then 'invalid_value:left_at'
            when joined_at >= {{ as_of_upper_bound() }} then 'after_as_of:joined_at'
        end as parse_problem
    from parsed
)

select * from checked
