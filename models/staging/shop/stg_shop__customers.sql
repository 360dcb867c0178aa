with

base as (
    select * from {{ ref('base_shop__customers') }}
    where quarantine_reason is null
),

normalized as (
    select
        customer_id,
        updated_at,
        created_at,
        {{ normalize_email('raw_email') }} as email_normalized,
        {{ digits_only('raw_phone') }} as phone_digits,
        raw_first_name as first_name,
        raw_last_name as last_name,
        {{ parse_date('raw_birth_date', 'shop.customers') }} as parsed_birth_date,
        raw_birth_date,
        upper(raw_postal_code) as postal_code,
        raw_city as city,
        upper(raw_country) as country_code,
        raw_email,
        raw_phone
    from base
),

final as (
    select
        {{ dbt.concat(['customer_id', "'|'", as_text('updated_at')]) }} as customer_version_id,
        customer_id,
        updated_at,
        created_at,
        row_number() over (partition by customer_id order by updated_at) as version_number,
        row_number() over (partition by customer_id order by updated_at desc) = 1 as is_latest_version,
        case when {{ is_valid_email('email_normalized') }} then email_normalized end as email,
        case
            when {{ is_valid_email('email_normalized') }} then {{ sha256('email_normalized') }}
        end as email_sha256,
        case when length(phone_digits) >= 6 then phone_digits end as phone,
        case when length(phone_digits) >= 6 then {{ sha256('phone_digits') }} end as phone_sha256,
        raw_email,
        raw_phone,
        first_name,
        last_name,
        {{ has_encoding_issue('first_name') }}
        or {{ has_encoding_issue('last_name') }}
        or {{ has_encoding_issue('city') }} as has_encoding_issue,
        -- A birth date outside a human lifetime is a typo, not a customer fact.
        -- It stays null, and birth_date_issue (with audit.audit__value_issues) says why.
        case
            when parsed_birth_date between cast('1900-01-01' as date) and {{ as_of_date_literal() }}
                then parsed_birth_date
        end as birth_date,
        case
            when raw_birth_date is not null and parsed_birth_date is null then 'unparseable_value'
            when parsed_birth_date not between cast('1900-01-01' as date) and {{ as_of_date_literal() }}
                then 'out_of_range'
        end as birth_date_issue,
        postal_code,
        city,
        country_code
    from normalized
)

select * from final
